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
BenchmarkCreateAgent/sdk-2   	   100	    1080 ns/op	    900 B/op	      14 allocs/op
BenchmarkCreateAgent/raw-2   	   100	    1000 ns/op	    800 B/op	      10 allocs/op
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
		"CreateAgent", "1.08", // within the general 1.10
		"Upload/16MiB", "MISSED: allocs 30 > raw+10; B/op 600000 >= 512 KiB",
		"Bulk/workers=8", "200.0 agents/s",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
}

// TestGetAgentTarget: GetAgent is held to 1.05, every other call to 1.10.
func TestGetAgentTarget(t *testing.T) {
	for _, tt := range []struct {
		sdk  string
		want string
	}{
		{"1050", "met"},
		{"1080", "MISSED: ns ratio 1.08 > 1.05"},
	} {
		in := "BenchmarkGetAgent/sdk-2 100 " + tt.sdk + " ns/op 900 B/op 14 allocs/op\n" +
			"BenchmarkGetAgent/raw-2 100 1000 ns/op 800 B/op 10 allocs/op\n" +
			"BenchmarkCreateAgent/sdk-2 100 " + tt.sdk + " ns/op 900 B/op 14 allocs/op\n" +
			"BenchmarkCreateAgent/raw-2 100 1000 ns/op 800 B/op 10 allocs/op\n"
		results, order, err := parse(strings.NewReader(in), &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		met := report(&out, results, order)
		var getLine, createLine string
		for _, line := range strings.Split(out.String(), "\n") {
			switch {
			case strings.HasPrefix(line, "GetAgent "):
				getLine = line
			case strings.HasPrefix(line, "CreateAgent "):
				createLine = line
			}
		}
		if !strings.HasSuffix(getLine, tt.want) {
			t.Errorf("GetAgent at %s: %q, want it to end in %q", tt.sdk, getLine, tt.want)
		}
		if !strings.HasSuffix(createLine, "met") {
			t.Errorf("CreateAgent at %s: %q, want met (its target is 1.10)", tt.sdk, createLine)
		}
		if met != (tt.want == "met") {
			t.Errorf("report said all met = %v", met)
		}
	}
}

// TestPassesAlternateWhichSideRunsFirst: the even passes ask for the raw
// sides first, the odd ones do not, whatever the caller's environment.
func TestPassesAlternateWhichSideRunsFirst(t *testing.T) {
	t.Setenv(rawFirstEnv, "1")
	for pass, want := range map[int]bool{1: false, 2: true, 3: false, 4: true} {
		got := 0
		for _, kv := range passEnv(pass) {
			if strings.HasPrefix(kv, rawFirstEnv+"=") {
				got++
			}
		}
		if (got == 1) != want || got > 1 {
			t.Errorf("pass %d: %d %s settings, want raw first = %v", pass, got, rawFirstEnv, want)
		}
	}
}
