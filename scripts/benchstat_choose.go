// Prints, as JSON, the binomial coefficients C(n, k) for 21 <= n <= 50 exactly as float64 values computed
// the way golang/perf's benchstat gets them (go-moremath mathx.Choose): exp(lgamma(n+1) - lgamma(k+1) -
// lgamma(n-k+1)) with Go's math package. Below 21 benchstat uses exact integers. The bits depend on Go's
// Lgamma and amd64 Exp/Log, which Python's libm does not reproduce; the median confidence interval for
// 21..30 samples and the tied Mann-Whitney p-values for 21..50 samples read them.
//
// Run by scripts/gen_benchstat_choose.py; standard library only.
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
)

func main() {
	table := map[string]any{
		"go":     runtime.Version(),
		"goarch": runtime.GOARCH,
		"first":  21,
	}
	var rows [][]string
	for n := 21; n <= 50; n++ {
		row := make([]string, n+1)
		for k := 0; k <= n; k++ {
			value := 1.0
			if k != 0 && k != n {
				a, _ := math.Lgamma(float64(n + 1))
				b, _ := math.Lgamma(float64(k + 1))
				c, _ := math.Lgamma(float64(n - k + 1))
				value = math.Exp(a - b - c)
			}
			row[k] = fmt.Sprintf("%016x", math.Float64bits(value))
		}
		rows = append(rows, row)
	}
	table["bits"] = rows
	out, err := json.Marshal(table)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append(out, '\n'))
}
