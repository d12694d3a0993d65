package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/flipkyctest"
)

// onboard reads the CSV a batch of 200 rows at a time and sends nothing
// until it has read all of it: a line it cannot parse after the first
// batches is an input error naming the line, and Flip was sent nothing but
// location look-ups; the rows before it were stored, or were bad rows
// printed as they were found, by line.
func TestOnboardStreamsCSVAndSendsNothingOnAParseError(t *testing.T) {
	t.Parallel()
	srv, vars := fakeEnv(t)
	path := writeScaleCSV(t, 450)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	lines[300] = strings.Replace(lines[300], "31-10-1990", "31-13-1990", 1) // line 301: a bad date
	broken := strings.Join(lines, "") + "Agent \"quoted\" badly,ktp\n"      // line 452
	require.NoError(t, os.WriteFile(path, []byte(broken), 0o600))

	r := cli(t, vars, "", "onboard", "--csv", path)
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "line 301: birth_date: want DD-MM-YYYY or YYYY-MM-DD")
	assert.Contains(t, r.stderr, "CSV line 452 at byte 7:")
	assert.NotContains(t, r.stderr, " new, ", "no counts line: the import did not finish")
	for _, req := range srv.Requests() {
		switch req.Route {
		case flipkyctest.RouteCountries, flipkyctest.RouteProvinces, flipkyctest.RouteCities, flipkyctest.RouteDistricts:
		default:
			t.Errorf("sent %s %s before the CSV was read", req.Method, req.Path)
		}
	}

	// The rows before the broken line (lines 2-451, the last batch's
	// too) were stored before the error: the run has them, and the CSV
	// with more rows resumes them.
	more := writeScaleCSV(t, 460)
	moreData, err := os.ReadFile(more)
	require.NoError(t, err)
	moreLines := strings.SplitAfter(string(moreData), "\n")
	fixed := strings.Join(lines[:len(lines)-1], "") + strings.Join(moreLines[451:], "")
	require.NoError(t, os.WriteFile(path, []byte(fixed), 0o600))
	r = cli(t, vars, "", "onboard", "--check", "--csv", path)
	assert.Equal(t, exitFailure, r.code, r.stderr)
	assert.Contains(t, r.stderr, "460 rows: 10 good, 450 bad", r.stderr)
	assert.Contains(t, r.stderr, "line 301: birth_date:")
	assert.Contains(t, r.stderr, "line 451: identity_number: already in the run, from line 451 of its CSV")
	assert.NotContains(t, r.stderr, "line 452: ")
}
