package main

import (
	"bytes"
	"strings"
	"testing"
)

const input = `goos: linux
BenchmarkGetAgent/sdk-2   	   100	    1050 ns/op	    900 B/op	      14 allocs/op
BenchmarkGetAgent/sdk-2   	   100	    1000 ns/op	    900 B/op	      14 allocs/op
BenchmarkGetAgent/sdk-2   	   100	    9000 ns/op	    900 B/op	      14 allocs/op
BenchmarkGetAgent/raw-2   	   100	    1000 ns/op	    800 B/op	      10 allocs/op
BenchmarkGetAgent/raw-2   	   100	    1000 ns/op	    800 B/op	      10 allocs/op
BenchmarkGetAgent/raw-2   	   100	    9000 ns/op	    800 B/op	      10 allocs/op
BenchmarkUpload/16MiB/sdk-2 	   10	    5000 ns/op	 100.00 MB/s	 600000 B/op	      30 allocs/op
BenchmarkUpload/16MiB/raw-2 	   10	    5000 ns/op	 100.00 MB/s	 16000000 B/op	      10 allocs/op
BenchmarkBulk/workers=8-2 	   10	    5000 ns/op	 200.0 agents/s
PASS
`

func TestReport(t *testing.T) {
	results, order, err := parse(strings.NewReader(input), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if got := median(results["GetAgent/sdk"]["ns/op"]); got != 1050 {
		t.Fatalf("median = %v, want 1050 (the outlier 9000 does not count)", got)
	}
	if got := pairedRatio([]float64{1050, 1000, 9000}, []float64{1000, 1000, 9000}); got != 1 {
		t.Fatalf("paired ratio = %v, want 1 (the median of 1.05, 1, 1)", got)
	}
	var out bytes.Buffer
	if report(&out, results, order) {
		t.Fatal("the upload misses two targets; report said all were met")
	}
	text := out.String()
	for _, want := range []string{
		"GetAgent", "1.00", "met",
		"Upload/16MiB", "MISSED: allocs 30 > raw+10; B/op 600000 >= 512 KiB",
		"Bulk/workers=8", "200.0 agents/s",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
}
