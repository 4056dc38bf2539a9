// Command gcchurn allocates maps so the GC runs a handful of cycles; run it with GODEBUG=gctrace=1 (and
// friends) to get real gctrace/gcpacertrace/scavtrace output for mapscope's tests.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
)

var sink []map[int][]byte

// churn keeps the last few maps alive so the live heap grows and the pacer has work to do.
func churn(rounds, keys int) {
	for r := 0; r < rounds; r++ {
		m := make(map[int][]byte, keys/4)
		for i := 0; i < keys; i++ {
			m[i] = make([]byte, 48)
		}
		sink = append(sink, m)
		if len(sink) > 4 {
			sink = sink[1:]
		}
	}
}

// leak parks goroutines on channels nobody else can reach: the goroutine leak detector's target.
func leak(n int) {
	for i := 0; i < n; i++ {
		ch := make(chan int)
		go func() { <-ch }()
	}
}

func main() {
	rounds := flag.Int("rounds", 12, "allocation rounds")
	keys := flag.Int("keys", 20000, "keys per map")
	leakProfile := flag.Bool("leakprofile", false, "leak goroutines, then take a goroutineleak profile (Go 1.26+)")
	chatter := flag.Bool("chatter", false, "write program output to stderr, some of it without a newline")
	flag.Parse()

	churn(*rounds, *keys)
	if *chatter {
		os.Stderr.Write([]byte{0x00, 0xff, 0xfe, 'b', 'i', 'n', '\n'})
		for i := 0; i < 3; i++ {
			fmt.Fprintf(os.Stderr, "app: round %d done\n", i)
			// No newline: the runtime's next trace line lands behind this text.
			fmt.Fprintf(os.Stderr, "app: progress %d%% ", i*50)
			runtime.GC()
			fmt.Fprintln(os.Stderr)
			churn(2, *keys)
		}
	}
	if *leakProfile {
		leak(3)
		if p := pprof.Lookup("goroutineleak"); p != nil {
			p.WriteTo(io.Discard, 0)
		}
	}
	runtime.GC()
	debug.FreeOSMemory()
	fmt.Println(len(sink))
}
