// Command benchratio reads `go test -bench -benchmem` output on standard
// input and prints, for every benchmark that has an "sdk" and a "raw" side,
// the SDK/raw ratio of the medians of ns/op, B/op and allocs/op, checked
// against flipkyc's performance targets:
//
//   - ns/op ratio at most 1.10 for every call;
//   - allocs/op at most raw + 10;
//   - for uploads, B/op of the SDK under 512 KiB.
//
// Other benchmarks' custom metrics (such as agents/s) are listed as they
// are. It exits 1 when a target is missed.
//
//	go test -run '^$' -bench . -benchmem -count 5 . | go run ./cmd/benchratio
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Targets from the performance issue.
const (
	maxTimeRatio    = 1.10
	maxExtraAllocs  = 10
	maxUploadBytes  = 512 << 10
	uploadBenchName = "Upload"
)

// sample holds every value seen for one benchmark, by unit.
type sample map[string][]float64

var cpuSuffix = regexp.MustCompile(`-\d+$`)

// parse reads benchmark lines: name, iterations, then value-unit pairs.
func parse(r io.Reader, echo io.Writer) (map[string]sample, []string, error) {
	results := map[string]sample{}
	var order []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(echo, line)
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := cpuSuffix.ReplaceAllString(strings.TrimPrefix(fields[0], "Benchmark"), "")
		if _, ok := results[name]; !ok {
			results[name] = sample{}
			order = append(order, name)
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			results[name][fields[i+1]] = append(results[name][fields[i+1]], v)
		}
	}
	return results, order, sc.Err()
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// report prints the ratio table and reports whether every target was met.
func report(w io.Writer, results map[string]sample, order []string) bool {
	ok := true
	fmt.Fprintf(w, "\nmachine: %d cores (GOMAXPROCS %d)\n", runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "%-28s %6s %12s %12s %8s %12s %12s %8s %8s %8s  %s\n",
		"call", "runs", "sdk ns/op", "raw ns/op", "ns", "sdk B/op", "raw B/op", "B", "sdk al", "raw al", "targets")
	for _, name := range order {
		base, ok2 := strings.CutSuffix(name, "/sdk")
		if !ok2 {
			continue
		}
		sdk, raw := results[name], results[base+"/raw"]
		if raw == nil {
			continue
		}
		sNs, rNs := median(sdk["ns/op"]), median(raw["ns/op"])
		sB, rB := median(sdk["B/op"]), median(raw["B/op"])
		sA, rA := median(sdk["allocs/op"]), median(raw["allocs/op"])
		var missed []string
		if sNs > maxTimeRatio*rNs {
			missed = append(missed, fmt.Sprintf("ns ratio %.2f > %.2f", sNs/rNs, maxTimeRatio))
		}
		if sA > rA+maxExtraAllocs {
			missed = append(missed, fmt.Sprintf("allocs %.0f > raw+%d", sA, maxExtraAllocs))
		}
		if strings.Contains(base, uploadBenchName) && sB >= maxUploadBytes {
			missed = append(missed, fmt.Sprintf("B/op %.0f >= 512 KiB", sB))
		}
		verdict := "met"
		if len(missed) > 0 {
			verdict, ok = "MISSED: "+strings.Join(missed, "; "), false
		}
		fmt.Fprintf(w, "%-28s %6d %12.0f %12.0f %8.2f %12.0f %12.0f %8.2f %8.0f %8.0f  %s\n",
			base, len(sdk["ns/op"]), sNs, rNs, sNs/rNs, sB, rB, sB/rB, sA, rA, verdict)
	}
	for _, name := range order {
		if strings.HasSuffix(name, "/sdk") || strings.HasSuffix(name, "/raw") {
			continue
		}
		var parts []string
		for unit, vs := range results[name] {
			if unit != "ns/op" && unit != "B/op" && unit != "allocs/op" {
				parts = append(parts, fmt.Sprintf("%.1f %s", median(vs), unit))
			}
		}
		sort.Strings(parts)
		fmt.Fprintf(w, "%-28s %6d %12.0f ns/op  %s\n", name, len(results[name]["ns/op"]), median(results[name]["ns/op"]), strings.Join(parts, "  "))
	}
	return ok
}

func main() {
	results, order, err := parse(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchratio:", err)
		os.Exit(2)
	}
	if len(results) == 0 {
		fmt.Fprintln(os.Stderr, "benchratio: no benchmark lines on standard input")
		os.Exit(2)
	}
	if !report(os.Stdout, results, order) {
		os.Exit(1)
	}
}
