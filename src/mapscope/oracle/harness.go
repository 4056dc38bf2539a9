// Package harness is the fixed half of mapscope's oracle program: program.py writes package main, one
// function per case, and Main picks the case named by the first argument. Living in its own package keeps
// its names apart from the type declarations pasted into package main.
//
// Everything the measuring loop touches is allocated before the baseline reading, so between two readings
// only the map's own operations allocate: the keys, the result rows, the MemStats struct and the metrics
// sample are prepared up front, boxes for interface keys and values are made at insert time on purpose.

package harness

import (
	"fmt"
	"math"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"time"
	"unsafe"
)

// OpKind and Op mirror mapscope.model.ops: Insert adds the next never-seen keys, Delete removes the oldest
// live keys, Clear is clear(m).
type OpKind int

const (
	Insert OpKind = iota
	Delete
	Clear
)

type Op struct {
	Kind  OpKind
	Count int
}

// Spec is one case as program.py writes it; Hint < 0 means make without a hint. Prepare numbers the
// dynamic values that interface keys and values hold (called only when the key or value type is an
// interface) and returns how many objects boxing each allocates; Box converts value j to an interface,
// allocating as a program would.
type Spec struct {
	ID        string
	Hint      int
	Ops       []Op
	TrackPeak bool
	Prepare   func(n int) []uint8
	Box       func(j int) any
}

// row is one reading, relative to the baseline taken before make; peak is -1 unless tracked.
type row struct {
	retained, totalAlloc, mallocs, gcScan, peak int64
}

var (
	stats   runtime.MemStats
	samples = []metrics.Sample{{Name: "/gc/scan/heap:bytes"}}

	baseHeap, baseTotal, baseMallocs, baseScan int64
)

func fail(format string, args ...any) {
	fmt.Printf("{\"error\":%s}\n", strconv.Quote(fmt.Sprintf(format, args...)))
	os.Exit(1)
}

func scanBytes() int64 {
	metrics.Read(samples)
	if samples[0].Value.Kind() != metrics.KindUint64 {
		fail("runtime/metrics has no /gc/scan/heap:bytes")
	}
	return int64(samples[0].Value.Uint64())
}

// scanCollections is how many collections collectAndScan runs.
const scanCollections = 3

var scans [scanCollections]int64

// collectAndScan runs several collections and returns the median of the scannable heap they report. The
// runner turns off Go 1.26's AVX-512 span scanner (GODEBUG=cpu.avx512bw=off), which counts a small-object
// span's objects whole when enough of them were marked before the span was visited, something that
// changes from one collection to the next for the same heap; without it every object counts up to its
// last pointer word, as on every other CPU and release. The median guards against anything else.
func collectAndScan() int64 {
	for i := range scans {
		runtime.GC()
		scans[i] = scanBytes()
	}
	for i := 1; i < len(scans); i++ {
		for j := i; j > 0 && scans[j] < scans[j-1]; j-- {
			scans[j], scans[j-1] = scans[j-1], scans[j]
		}
	}
	return scans[len(scans)/2]
}

// warmTimers has several timers pending at once, so the processor's timer heap has room before any
// baseline: the runtime's background scavenger arms a timer at an unpredictable moment, and growing that
// heap then would put a stray 16-byte object into a measurement.
func warmTimers() {
	const timers = 16
	fired := make(chan struct{}, timers)
	for range timers {
		time.AfterFunc(time.Millisecond, func() { fired <- struct{}{} })
	}
	for range timers {
		<-fired
	}
}

func takeBaseline() {
	baseScan = collectAndScan()
	runtime.ReadMemStats(&stats)
	baseHeap, baseTotal, baseMallocs = int64(stats.HeapAlloc), int64(stats.TotalAlloc), int64(stats.Mallocs)
}

// settle collects, then reads every counter relative to the baseline.
func settle(peak int64) row {
	scan := collectAndScan()
	runtime.ReadMemStats(&stats)
	r := row{
		retained:   int64(stats.HeapAlloc) - baseHeap,
		totalAlloc: int64(stats.TotalAlloc) - baseTotal,
		mallocs:    int64(stats.Mallocs) - baseMallocs,
		gcScan:     scan - baseScan,
		peak:       -1,
	}
	if peak >= 0 {
		r.peak = max(peak, r.retained)
	}
	return r
}

// pointersBelow reports whether a value of type t holds a pointer word in its first limit bytes.
func pointersBelow(t reflect.Type, limit uintptr) bool {
	if limit == 0 {
		return false
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.UnsafePointer, reflect.Map, reflect.Chan, reflect.Func,
		reflect.Slice, reflect.String, reflect.Interface:
		return true
	case reflect.Array:
		size := t.Elem().Size()
		for i := 0; i < t.Len() && uintptr(i)*size < limit; i++ {
			if pointersBelow(t.Elem(), limit-uintptr(i)*size) {
				return true
			}
		}
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Offset < limit && pointersBelow(f.Type, limit-f.Offset) {
				return true
			}
		}
	}
	return false
}

// number makes v value number j: numbers become j, strings strconv.Itoa(j), arrays and structs carry j
// little-endian in their first min(size, 8) bytes when those hold no pointers and otherwise have their
// first element or field numbered, pointers and channels point to a fresh object each.
func number(v reflect.Value, j int) {
	t := v.Type()
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(j))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(uint64(j))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(j))
	case reflect.Complex64, reflect.Complex128:
		v.SetComplex(complex(float64(j), 0))
	case reflect.Bool:
		v.SetBool(j%2 == 1)
	case reflect.String:
		v.SetString(strconv.Itoa(j))
	case reflect.Pointer:
		v.Set(reflect.New(t.Elem()))
	case reflect.Chan:
		v.Set(reflect.MakeChan(t, 0))
	case reflect.Array, reflect.Struct:
		n := min(t.Size(), 8)
		if !pointersBelow(t, n) {
			p := unsafe.Pointer(v.UnsafeAddr())
			for b := uintptr(0); b < n; b++ {
				*(*byte)(unsafe.Add(p, b)) = byte(uint64(j) >> (8 * b))
			}
		} else if t.Kind() == reflect.Array {
			number(v.Index(0), j)
		} else {
			// Through its address, so that unexported fields can be set too.
			f := v.Field(0)
			number(reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem(), j)
		}
	default:
		fail("the oracle cannot make distinct values of kind %s (%s)", t.Kind(), t)
	}
}

func isInterface[T any]() bool {
	return reflect.TypeOf((*T)(nil)).Elem().Kind() == reflect.Interface
}

// as converts a box to the interface type T (a no-op for the empty interface).
func as[T any](x any) T {
	return x.(T)
}

// Numbered returns values 0..n-1 of type T, numbered like keys.
func Numbered[T any](n int) []T {
	values := make([]T, n)
	for j := range values {
		number(reflect.ValueOf(&values[j]).Elem(), j)
	}
	return values
}

// soleComponent is the one non-aggregate inside t (through one-field structs and one-element arrays).
func soleComponent(t reflect.Type) reflect.Type {
	for {
		switch {
		case t.Kind() == reflect.Struct && t.NumField() == 1:
			t = t.Field(0).Type
		case t.Kind() == reflect.Array && t.Len() == 1:
			t = t.Elem()
		case t.Kind() == reflect.Struct || t.Kind() == reflect.Array:
			return nil
		default:
			return t
		}
	}
}

func hasPointers(t reflect.Type) bool {
	return pointersBelow(t, t.Size())
}

// BoxCosts says, per value, how many heap objects converting it to an interface allocates, following
// the compiler's dataWord and the runtime's convT16/32/64: zero-size values and pointer-shaped types are
// stored directly, bools and bytes point into a static table, so do 2-, 4- and 8-byte values below 256
// that the runtime converts with convT16/32/64; everything else allocates one object.
func BoxCosts[T any](values []T) []uint8 {
	t := reflect.TypeOf((*T)(nil)).Elem()
	costs := make([]uint8, len(values))
	sole := soleComponent(t)
	for j := range values {
		costs[j] = 1
		switch t.Kind() {
		case reflect.Pointer, reflect.UnsafePointer, reflect.Map, reflect.Chan, reflect.Func:
			costs[j] = 0
			continue
		}
		if t.Size() == 0 {
			costs[j] = 0
			continue
		}
		if sole != nil && t.Size() == 1 && (sole.Kind() == reflect.Bool || sole.Kind() <= reflect.Uint64) {
			costs[j] = 0
			continue
		}
		if sole != nil && sole.Kind() == reflect.String && len(*(*string)(unsafe.Pointer(&values[j]))) == 0 {
			costs[j] = 0
			continue
		}
		size, align := t.Size(), uintptr(t.Align())
		if (size == 2 && align == 2) || (size == 4 && align == 4 || size == 8 && align == 8) && !hasPointers(t) {
			var bits uint64
			for b := uintptr(0); b < size; b++ {
				bits |= uint64(*(*byte)(unsafe.Add(unsafe.Pointer(&values[j]), b))) << (8 * b)
			}
			if bits < 256 {
				costs[j] = 0
			}
		}
	}
	return costs
}

func totalInserts(ops []Op) int {
	n := 0
	for _, o := range ops {
		if o.Kind == Insert {
			n += o.Count
		}
	}
	return n
}

// Measure runs reps repetitions of the case on the package-level map *mp, each with a fresh map (so a fresh
// hash seed), and prints one JSON line per reading after all of them.
func Measure[M ~map[K]V, K comparable, V any](mp *M, s *Spec, reps int) {
	keyType, elemType := reflect.TypeOf((*K)(nil)).Elem(), reflect.TypeOf((*V)(nil)).Elem()
	keyIface, elemIface := keyType.Kind() == reflect.Interface, elemType.Kind() == reflect.Interface
	var zeroKey K
	var zeroElem V
	// Objects every insert allocates for its own entry: out-of-line keys and values, then boxes.
	perEntry := uint64(0)
	if unsafe.Sizeof(zeroKey) > 128 {
		perEntry++
	}
	if unsafe.Sizeof(zeroElem) > 128 {
		perEntry++
	}
	n := totalInserts(s.Ops)
	keys := make([]K, n)
	if !keyIface {
		for j := range keys {
			number(reflect.ValueOf(&keys[j]).Elem(), j)
		}
	}
	var boxCost []uint8
	if keyIface || elemIface {
		boxCost = s.Prepare(max(n, 1))
		boxType := reflect.TypeOf(s.Box(0))
		if keyIface && !boxType.Implements(keyType) {
			fail("the boxed type %s does not implement the key type %s", boxType, keyType)
		}
		if elemIface && !boxType.Implements(elemType) {
			fail("the boxed type %s does not implement the value type %s", boxType, elemType)
		}
		checkBoxCosts(s, boxCost)
	}
	readings := len(s.Ops) + 1
	rows := make([]row, reps*readings)
	// The first collections after start-up allocate once (runtime bookkeeping); two dry cycles move that,
	// and the first use of ReadMemStats and metrics.Read, before any baseline.
	warmTimers()
	for range 2 {
		takeBaseline()
		settle(-1)
	}

	for rep := 0; rep < reps; rep++ {
		*mp = nil
		if keyIface {
			clear(keys)
		}
		takeBaseline()
		peak := int64(-1)
		if s.TrackPeak {
			peak = 0
		}
		if s.Hint < 0 {
			*mp = make(M)
		} else {
			*mp = make(M, s.Hint)
		}
		at := rep * readings
		rows[at] = settle(peak)
		next, oldest := 0, 0
		for i, o := range s.Ops {
			if s.TrackPeak {
				peak = 0
			}
			switch o.Kind {
			case Insert:
				if s.TrackPeak {
					runtime.ReadMemStats(&stats)
				}
				previous := stats.Mallocs
				for j := next; j < next+o.Count; j++ {
					if keyIface {
						keys[j] = as[K](s.Box(j))
					}
					if elemIface {
						(*mp)[keys[j]] = as[V](s.Box(j))
					} else {
						(*mp)[keys[j]] = zeroElem
					}
					if !s.TrackPeak {
						continue
					}
					runtime.ReadMemStats(&stats)
					expected := perEntry
					if keyIface {
						expected += uint64(boxCost[j])
					}
					if elemIface {
						expected += uint64(boxCost[j])
					}
					if stats.Mallocs-previous > expected {
						peak = max(peak, int64(stats.HeapAlloc)-baseHeap)
						runtime.GC()
						runtime.ReadMemStats(&stats)
						peak = max(peak, int64(stats.HeapAlloc)-baseHeap)
					}
					previous = stats.Mallocs
				}
				next += o.Count
			case Delete:
				for j := oldest; j < oldest+o.Count; j++ {
					delete(*mp, keys[j])
					if keyIface {
						keys[j] = zeroKey
					}
				}
				oldest += o.Count
			case Clear:
				clear(*mp)
				if keyIface {
					clear(keys[oldest:next])
				}
				oldest = next
			}
			rows[at+i+1] = settle(peak)
			if len(*mp) != next-oldest {
				fail("after operation %d the map holds %d keys, not %d: keys of %s collide",
					i+1, len(*mp), next-oldest, keyType)
			}
		}
	}
	*mp = nil
	report(s, reps, rows)
}

// checkBoxCosts converts a few values with the allocation counters around them, so a wrong guess of
// which conversions allocate fails loudly instead of skewing peak readings.
func checkBoxCosts(s *Spec, costs []uint8) {
	for _, j := range []int{0, 1, 255, 256, 257, len(costs) - 1} {
		if j < 0 || j >= len(costs) {
			continue
		}
		runtime.ReadMemStats(&stats)
		before := stats.Mallocs
		keep = s.Box(j)
		runtime.ReadMemStats(&stats)
		if got := stats.Mallocs - before; got != uint64(costs[j]) {
			fail("boxing value %d of %T allocated %d objects, expected %d", j, keep, got, costs[j])
		}
	}
	keep = nil
}

// keep makes a probe conversion escape, as conversions stored in the map do.
var keep any

func report(s *Spec, reps int, rows []row) {
	experiment := ""
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, setting := range info.Settings {
			if setting.Key == "GOEXPERIMENT" {
				experiment = setting.Value
			}
		}
	}
	readings := len(s.Ops) + 1
	fmt.Printf("{\"case\":%s,\"go\":%s,\"goexperiment\":%s,\"reps\":%d,\"readings\":%d}\n",
		strconv.Quote(s.ID), strconv.Quote(runtime.Version()), strconv.Quote(experiment), reps, readings)
	for rep := 0; rep < reps; rep++ {
		for i := 0; i < readings; i++ {
			r := rows[rep*readings+i]
			fmt.Printf("{\"rep\":%d,\"op\":%d,\"retained\":%d,\"total_alloc\":%d,\"mallocs\":%d,\"gc_scan\":%d,\"peak\":%d}\n",
				rep, i, r.retained, r.totalAlloc, r.mallocs, r.gcScan, r.peak)
		}
	}
}

// Main runs the case named by the first argument, repeated as often as the second says.
func Main(cases map[string]func(reps int)) {
	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(math.MaxInt64)
	if len(os.Args) != 3 {
		fail("usage: %s CASE REPS", os.Args[0])
	}
	run, ok := cases[os.Args[1]]
	if !ok {
		fail("no case %q in this program", os.Args[1])
	}
	reps, err := strconv.Atoi(os.Args[2])
	if err != nil || reps < 1 || reps > 1000 {
		fail("REPS must be a number from 1 to 1000, not %q", os.Args[2])
	}
	run(reps)
}
