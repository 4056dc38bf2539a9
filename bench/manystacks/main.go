// Command manystacks writes a heap profile (debug=1 text) with many distinct stacks, for
// bench/pprof_text_parse.py: every allocation goes through a chain of DEPTH calls picked among 16
// functions by the digits of its number, so N allocations give up to N distinct records.
//
// Usage: manystacks N DEPTH OUT (MemProfileRate is 1: every allocation is recorded).
package main

import (
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
)

var keep [][]byte

//go:noinline
func leaf(n int) { keep = append(keep, make([]byte, 16+n%200)) }

type step func(path, depth int)

var steps [16]step

func next(path, depth int) {
	if depth == 0 {
		leaf(path)
		return
	}
	steps[path%16](path/16, depth-1)
}

//go:noinline
func s0(p, d int) { next(p, d) }

//go:noinline
func s1(p, d int) { next(p, d) }

//go:noinline
func s2(p, d int) { next(p, d) }

//go:noinline
func s3(p, d int) { next(p, d) }

//go:noinline
func s4(p, d int) { next(p, d) }

//go:noinline
func s5(p, d int) { next(p, d) }

//go:noinline
func s6(p, d int) { next(p, d) }

//go:noinline
func s7(p, d int) { next(p, d) }

//go:noinline
func s8(p, d int) { next(p, d) }

//go:noinline
func s9(p, d int) { next(p, d) }

//go:noinline
func s10(p, d int) { next(p, d) }

//go:noinline
func s11(p, d int) { next(p, d) }

//go:noinline
func s12(p, d int) { next(p, d) }

//go:noinline
func s13(p, d int) { next(p, d) }

//go:noinline
func s14(p, d int) { next(p, d) }

//go:noinline
func s15(p, d int) { next(p, d) }

func main() {
	runtime.MemProfileRate = 1
	steps = [16]step{s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15}
	n, _ := strconv.Atoi(os.Args[1])
	depth, _ := strconv.Atoi(os.Args[2])
	for i := 0; i < n; i++ {
		next(i, depth)
	}
	out, err := os.Create(os.Args[3])
	if err != nil {
		panic(err)
	}
	defer out.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(out, 1); err != nil {
		panic(err)
	}
}
