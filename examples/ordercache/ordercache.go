// Package ordercache reproduces the map designs behind common Go memory surprises, one function per
// design, so that its benchmarks can put their speed and the heap they keep alive side by side:
//
//   - an order cache of 1 KiB orders keyed by id, stored in the map by value, by pointer, or in a
//     sync.Map;
//   - map[interface{}]interface{} against a typed map, filled and ranged over;
//   - a cache that deletes every order it held, which leaves the map's buckets behind because Go maps
//     never shrink, with and without a size hint.
//
// The workload is the one mapscope's model describes: keys 0..n-1 inserted in order, later keys n..2n-1
// for reuse after deletes, interface keys and values holding the int key.
package ordercache

import "sync"

// Order is what the cache holds: a fixed 1 KiB record. Values over 128 bytes are stored outside the
// map's buckets by the runtime, one heap object per entry, whichever way the code spells it.
type Order = [1024]byte

func order(id int) Order {
	var o Order
	o[0], o[1] = byte(id), byte(id>>8)
	return o
}

// FillByValue builds a cache holding the orders themselves; hint < 0 makes the map without a size hint.
func FillByValue(n, hint int) map[int]Order {
	var m map[int]Order
	if hint < 0 {
		m = make(map[int]Order)
	} else {
		m = make(map[int]Order, hint)
	}
	for id := range n {
		m[id] = order(id)
	}
	return m
}

// FillByPointer builds a cache of pointers: the orders are the program's allocations, the map holds
// 8-byte pointers that the garbage collector must follow.
func FillByPointer(n int) map[int]*Order {
	m := make(map[int]*Order)
	for id := range n {
		o := order(id)
		m[id] = &o
	}
	return m
}

// FillSyncMap builds the same cache as a sync.Map: every key and every order is boxed in an interface.
func FillSyncMap(n int) *sync.Map {
	m := new(sync.Map)
	for id := range n {
		m.Store(id, order(id))
	}
	return m
}

// LookupByValue, LookupByPointer and LookupSyncMap read every order once and sum a byte of each, so the
// reads cannot be optimised away.
func LookupByValue(m map[int]Order, n int) int {
	sum := 0
	for id := range n {
		o := m[id]
		sum += int(o[0])
	}
	return sum
}

func LookupByPointer(m map[int]*Order, n int) int {
	sum := 0
	for id := range n {
		sum += int(m[id][0])
	}
	return sum
}

func LookupSyncMap(m *sync.Map, n int) int {
	sum := 0
	for id := range n {
		v, _ := m.Load(id)
		o := v.(Order)
		sum += int(o[0])
	}
	return sum
}

// FillAny builds a map[interface{}]interface{} where both key and value hold the int: ints from 256 on
// are boxed on the heap when converted to an interface.
func FillAny(n int) map[interface{}]interface{} {
	m := make(map[interface{}]interface{})
	for i := range n {
		m[i] = i
	}
	return m
}

// FillTyped builds the same content as a map[int]int: no boxes, and nothing for the collector to scan.
func FillTyped(n int) map[int]int {
	m := make(map[int]int)
	for i := range n {
		m[i] = i
	}
	return m
}

// SumAny and SumTyped range over the maps; the interface version pays a type assertion per entry.
func SumAny(m map[interface{}]interface{}) int {
	sum := 0
	for k, v := range m {
		sum += k.(int) ^ v.(int)
	}
	return sum
}

func SumTyped(m map[int]int) int {
	sum := 0
	for k, v := range m {
		sum += k ^ v
	}
	return sum
}

// DeleteAll removes every order the cache holds. The map keeps its buckets (or its Swiss tables): only
// the orders stored out of line are freed.
func DeleteAll(m map[int]Order, n int) {
	for id := range n {
		delete(m, id)
	}
}

// Refill inserts n new orders (ids n..2n-1) into a cache that was emptied by DeleteAll.
func Refill(m map[int]Order, n int) {
	for id := n; id < 2*n; id++ {
		m[id] = order(id)
	}
}
