// Writes a small runtime/trace execution trace to the file named by the first argument: it fills and
// drops a map, allocates large buffers until the pacer starts GC cycles, and blocks on a channel and a
// mutex, so the trace holds GC, STW, sweep, heap, block/unblock, syscall and (with
// GODEBUG=traceallocfree=1) alloc/free events. runtime.GC is avoided and the loop sleeps so a P stays
// idle: the background sweeper yields whenever no P is idle, writing thousands of GoStart/GoStop pairs.
//
// Run by scripts/gen_trace_fixtures.py; standard library only.
package main

import (
	"os"
	"runtime"
	"runtime/trace"
	"sync"
	"time"
)

var (
	sink   map[int][]byte
	buffer [][]byte
)

func fill(n int) map[int][]byte {
	m := make(map[int][]byte)
	for i := 0; i < n; i++ {
		m[i] = make([]byte, 16)
	}
	return m
}

func main() {
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := trace.Start(f); err != nil {
		panic(err)
	}
	done := make(chan int)
	var mu sync.Mutex
	mu.Lock()
	go func() {
		sink = fill(200)
		mu.Lock()
		done <- len(sink)
	}()
	time.Sleep(time.Millisecond)
	mu.Unlock()
	<-done
	sink = nil
	for i := 0; i < 16; i++ {
		buffer = append(buffer, make([]byte, 1<<20))
		if len(buffer) > 4 {
			buffer = buffer[1:]
		}
		time.Sleep(200 * time.Microsecond)
	}
	runtime.KeepAlive(buffer)
	trace.Stop()
	if err := f.Close(); err != nil {
		panic(err)
	}
}
