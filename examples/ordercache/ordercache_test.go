package ordercache

import (
	"runtime"
	"strconv"
	"testing"
)

// n is the number of orders in every cache: 10 MiB of orders, big enough for the per-entry costs to
// dominate and small enough for each benchmark to finish in about a second.
const n = 10000

// sink keeps the last map built by a benchmark loop alive, so the compiler cannot drop the work.
var sink any

// name spells a sub-benchmark the way mapscope reads it: map=<Go map type>/n=<entries>, then any other
// key=value parts (hint=<make hint>, phase=filled|deleted|churned). With these, `mapscope report` puts
// the model's bytes per entry beside the measured live-B/entry.
func name(mapType string, parts ...string) string {
	full := "map=" + mapType + "/n=" + strconv.Itoa(n)
	for _, part := range parts {
		full += "/" + part
	}
	return full
}

// reportLive builds one more cache between two garbage collections and reports the heap it keeps alive,
// per entry, as the custom metric live-B/entry. Everything the cache holds counts: buckets or tables,
// out-of-line orders, interface boxes, and for pointer values the orders they point to.
func reportLive(b *testing.B, build func() any) {
	b.StopTimer()
	sink = nil
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	kept := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(kept)
	live := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	b.ReportMetric(float64(live)/n, "live-B/entry")
	b.StartTimer()
}

// BenchmarkOrderCache fills a cache of n orders per op, stored by value, by pointer and in a sync.Map.
func BenchmarkOrderCache(b *testing.B) {
	designs := []struct {
		mapType string
		build   func() any
	}{
		{"map[int][1024]byte", func() any { return FillByValue(n, -1) }},
		{"map[int]*[1024]byte", func() any { return FillByPointer(n) }},
		{"sync.Map", func() any { return FillSyncMap(n) }},
	}
	for _, design := range designs {
		b.Run(name(design.mapType), func(b *testing.B) {
			for range b.N {
				sink = design.build()
			}
			reportLive(b, design.build)
		})
	}
}

// BenchmarkOrderLookup reads all n orders once per op from each cache design.
func BenchmarkOrderLookup(b *testing.B) {
	byValue := FillByValue(n, -1)
	byPointer := FillByPointer(n)
	syncMap := FillSyncMap(n)
	lookups := []struct {
		mapType string
		lookup  func() int
		build   func() any
	}{
		{"map[int][1024]byte", func() int { return LookupByValue(byValue, n) }, func() any { return FillByValue(n, -1) }},
		{"map[int]*[1024]byte", func() int { return LookupByPointer(byPointer, n) }, func() any { return FillByPointer(n) }},
		{"sync.Map", func() int { return LookupSyncMap(syncMap, n) }, func() any { return FillSyncMap(n) }},
	}
	for _, l := range lookups {
		b.Run(name(l.mapType), func(b *testing.B) {
			sum := 0
			for range b.N {
				sum += l.lookup()
			}
			sink = sum
			reportLive(b, l.build)
		})
	}
}

// BenchmarkIfaceMap fills, and ranges over, the same n ints as map[interface{}]interface{} and map[int]int.
func BenchmarkIfaceMap(b *testing.B) {
	anyMap := FillAny(n)
	typed := FillTyped(n)
	b.Run(name("map[interface{}]interface{}", "op=fill"), func(b *testing.B) {
		for range b.N {
			sink = FillAny(n)
		}
		reportLive(b, func() any { return FillAny(n) })
	})
	b.Run(name("map[int]int", "op=fill"), func(b *testing.B) {
		for range b.N {
			sink = FillTyped(n)
		}
		reportLive(b, func() any { return FillTyped(n) })
	})
	b.Run(name("map[interface{}]interface{}", "op=range"), func(b *testing.B) {
		sum := 0
		for range b.N {
			sum += SumAny(anyMap)
		}
		sink = sum
		reportLive(b, func() any { return FillAny(n) })
	})
	b.Run(name("map[int]int", "op=range"), func(b *testing.B) {
		sum := 0
		for range b.N {
			sum += SumTyped(typed)
		}
		sink = sum
		reportLive(b, func() any { return FillTyped(n) })
	})
}

// BenchmarkCacheDeletes fills a cache of n orders and deletes them all (phase=deleted), then fills it
// with n new orders (phase=churned), without and with a size hint. live-B/entry is per original entry:
// after deleting everything the map still holds its buckets, so it does not drop to zero.
func BenchmarkCacheDeletes(b *testing.B) {
	hints := []struct {
		part string
		hint int
	}{{"", -1}, {"hint=" + strconv.Itoa(n), n}}
	for _, h := range hints {
		for _, phase := range []string{"deleted", "churned"} {
			parts := []string{"phase=" + phase}
			if h.part != "" {
				parts = append([]string{h.part}, parts...)
			}
			run := func() any {
				m := FillByValue(n, h.hint)
				DeleteAll(m, n)
				if phase == "churned" {
					Refill(m, n)
				}
				return m
			}
			b.Run(name("map[int][1024]byte", parts...), func(b *testing.B) {
				for range b.N {
					sink = run()
				}
				reportLive(b, run)
			})
		}
	}
}

// TestDesignsHoldTheSameOrders checks that every design answers lookups alike, so the benchmarks compare
// like with like.
func TestDesignsHoldTheSameOrders(t *testing.T) {
	const small = 600
	want := LookupByValue(FillByValue(small, -1), small)
	if got := LookupByPointer(FillByPointer(small), small); got != want {
		t.Fatalf("by pointer: sum %d, want %d", got, want)
	}
	if got := LookupSyncMap(FillSyncMap(small), small); got != want {
		t.Fatalf("sync.Map: sum %d, want %d", got, want)
	}
	if got, want := SumAny(FillAny(small)), SumTyped(FillTyped(small)); got != want {
		t.Fatalf("interface map: sum %d, want %d", got, want)
	}
	m := FillByValue(small, small)
	DeleteAll(m, small)
	if len(m) != 0 {
		t.Fatalf("after DeleteAll: %d entries left", len(m))
	}
	Refill(m, small)
	if len(m) != small {
		t.Fatalf("after Refill: %d entries, want %d", len(m), small)
	}
}
