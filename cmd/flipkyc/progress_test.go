package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/flipkyc/flipkyc/fleet"
)

// testProgress returns a progress writing to out, with a clock that moves
// only when told and a terminal of the given width (0: not a terminal).
func testProgress(out *bytes.Buffer, width int) (*progress, *time.Time) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	p := newProgress(out)
	p.now = func() time.Time { return now }
	p.start, p.tty = now, width > 0
	p.width = func() int { return width }
	return p, &now
}

// Plain lines: the first at once, then at most one each 5 s, and the last
// when every agent is final.
func TestProgressPlain(t *testing.T) {
	var out bytes.Buffer
	p, now := testProgress(&out, 0)
	p.update(fleet.Counts{"new": 4})
	*now = now.Add(time.Second)
	p.update(fleet.Counts{"new": 2, "created": 1, "approved": 1}) // not due
	*now = now.Add(time.Second)
	p.update(fleet.Counts{"approved": 3, "rejected": 1})
	p.done()
	assert.Equal(t, "progress: 0/4 final, 0.0 agents/s, ETA - | new 4\n"+
		"progress: 4/4 final, 2.0 agents/s | approved 3, rejected 1\n", out.String())
}

// The ETA counts the run's own work: agents waiting for Flip's decision do
// not make it climb; when only they are left, the line says how many.
func TestProgressETAIgnoresDecisions(t *testing.T) {
	var out bytes.Buffer
	p, now := testProgress(&out, 200)
	steps := []struct {
		counts fleet.Counts
		want   string
	}{
		{fleet.Counts{"new": 10}, "0/10 final, 0.0/s, ETA - | creating 10"},
		{fleet.Counts{"new": 6, "in_review": 4}, "0/10 final, 4.0/s, ETA 2s, waiting for 4 decisions | creating 6, in review 4"},
		{fleet.Counts{"new": 2, "in_review": 8}, "0/10 final, 4.0/s, ETA <1s, waiting for 8 decisions | creating 2, in review 8"},
		// Ten seconds of waiting: no ETA to climb, only the decisions.
		{fleet.Counts{"in_review": 10}, "0/10 final, 1.0/s, waiting for 10 decisions | in review 10"},
		{fleet.Counts{"in_review": 2, "approved": 8}, "8/10 final, 0.9/s, waiting for 2 decisions | in review 2, approved 8"},
	}
	for i, st := range steps {
		*now = p.start.Add([]time.Duration{0, time.Second, 2 * time.Second, 10 * time.Second, 11 * time.Second}[i])
		out.Reset()
		p.update(st.counts)
		line := strings.TrimPrefix(out.String(), "\r\x1b[K")
		assert.Equal(t, st.want, line[strings.Index(line, "] ")+2:], "step %d", i)
	}
}

// On a terminal every redraw fits the width, one column kept free, so it
// never wraps, and gives the count of each phase (names that stay the
// same from one redraw to the next); the bar is drawn only when the whole
// line fits with it, else the line is cut at its end.
func TestProgressFitsTheTerminal(t *testing.T) {
	counts := fleet.Counts{"new": 1000, "creating": 10, "created": 10, "uploading_identity": 5, "identity_uploaded": 3,
		"uploading_selfie": 2, "awaiting_check": 40, "checked": 4, "submitting": 2, "in_review": 300, "approved": 9000,
		"rejected": 12, "attention": 3}
	const line = "9015/10391 final, 0.0/s, ETA -, waiting for 340 decisions | creating 1020, uploading 10, checking 44, in review 302, approved 9000, rejected 12, attention 3"
	for _, width := range []int{200, 80, 40, 10, 1} {
		var out bytes.Buffer
		p, _ := testProgress(&out, width)
		p.update(counts)
		p.update(counts)
		p.done()
		redraws := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\r\x1b[K")[1:]
		assert.Len(t, redraws, 2)
		for _, r := range redraws {
			assert.LessOrEqual(t, utf8.RuneCountInString(r), max(width-1, 0), "width %d: %q", width, r)
			assert.NotContains(t, r, "\n")
		}
		switch width {
		case 200:
			assert.Equal(t, "[#################...] "+line, redraws[0])
		case 80, 40:
			assert.Equal(t, cut(line, width-1), redraws[0])
		}
	}
	late := fleet.Counts{fleet.StateInReview: 2, fleet.StateApproved: 5}
	early := fleet.Counts{fleet.StateUploadingIdentity: 4, fleet.StateUploadingSelfie: 2, fleet.StateAwaitingCheck: 1}
	for _, c := range []struct {
		width  int
		counts fleet.Counts
		want   string
	}{
		{80, late, "5/7 final, 0.0/s, waiting for 2 decisions | in review 2, approved 5"},
		{120, late, "[##############......] 5/7 final, 0.0/s, waiting for 2 decisions | in review 2, approved 5"},
		{80, early, "0/7 final, 0.0/s, ETA -, waiting for 1 decision | uploading 6, checking 1"},
		{140, early, "[....................] 0/7 final, 0.0/s, ETA -, waiting for 1 decision | uploading 6, checking 1"},
	} {
		var out bytes.Buffer
		p, _ := testProgress(&out, c.width)
		p.update(c.counts)
		assert.Equal(t, "\r\x1b[K"+c.want, out.String(), "width %d", c.width)
	}
}

// Once the bar gave way to a longer line it stays away at that width,
// whatever the next lines' length, and comes back when the terminal is
// resized.
func TestProgressBarDoesNotComeAndGo(t *testing.T) {
	var out bytes.Buffer
	p, _ := testProgress(&out, 100)
	width := 100
	p.width = func() int { return width }
	short := fleet.Counts{fleet.StateInReview: 2, fleet.StateApproved: 5}
	long := fleet.Counts{fleet.StateNew: 1, fleet.StateUploadingSelfie: 1, fleet.StateAwaitingCheck: 1, fleet.StateInReview: 2,
		fleet.StateApproved: 5, fleet.StateRejected: 1, fleet.StateAttention: 1}
	var bars []bool
	for _, c := range []fleet.Counts{short, long, short} {
		out.Reset()
		p.update(c)
		bars = append(bars, strings.HasPrefix(out.String(), "\r\x1b[K["))
	}
	width = 200
	out.Reset()
	p.update(short)
	bars = append(bars, strings.HasPrefix(out.String(), "\r\x1b[K["))
	assert.Equal(t, []bool{true, false, false, true}, bars)
}

// The rate, and so the ETA, is the run's pace over the last minute, not
// its average since it started.
func TestProgressRateOverTheLastMinute(t *testing.T) {
	var out bytes.Buffer
	p, now := testProgress(&out, 0)
	p.update(fleet.Counts{"new": 1000})
	for i := 1; i <= 5; i++ { // 100 agents a minute for 5 minutes
		*now = p.start.Add(time.Duration(i) * time.Minute)
		p.update(fleet.Counts{"new": 1000 - 100*i, "approved": 100 * i})
	}
	*now = now.Add(30 * time.Second) // then 300 in 30 s
	out.Reset()
	p.update(fleet.Counts{"new": 200, "approved": 800})
	assert.Equal(t, "progress: 800/1000 final, 4.4 agents/s, ETA 45s | new 200, approved 800\n", out.String())
}

// screenLines plays what a terminal shows for out, as its lines: \r goes
// to the line's start, ESC [K clears to its end, \n starts the next line.
func screenLines(out string) []string {
	lines := []string{""}
	col := 0
	for len(out) > 0 {
		switch {
		case strings.HasPrefix(out, "\x1b[K"):
			last := []rune(lines[len(lines)-1])
			lines[len(lines)-1] = string(last[:min(col, len(last))])
			out = out[3:]
			continue
		case out[0] == '\r':
			col = 0
		case out[0] == '\n':
			lines = append(lines, "")
			col = 0
		default:
			r, size := utf8.DecodeRuneInString(out)
			last := []rune(lines[len(lines)-1])
			if col < len(last) {
				last[col] = r
			} else {
				last = append(last, r)
			}
			lines[len(lines)-1] = string(last)
			col++
			out = out[size:]
			continue
		}
		out = out[1:]
	}
	return lines
}

// A log line written while the progress row is drawn (River's or the
// fleet's warnings take turns with it) takes the row's place on a line of
// its own, and the row is drawn again below it; a line written in pieces
// is not cut by a redraw.
func TestLogLinesTakeTurnsWithTheProgressRow(t *testing.T) {
	var out bytes.Buffer
	w := &turnWriter{w: &out}
	p, _ := testProgress(&out, 80)
	p.w = w
	p.update(fleet.Counts{fleet.StateNew: 2})
	_, _ = w.Write([]byte("time=… level=WARN msg=\"first warning\"\n"))
	p.update(fleet.Counts{fleet.StateInReview: 2})
	_, _ = w.Write([]byte("level=WARN msg=\"second"))
	p.update(fleet.Counts{fleet.StateApproved: 1, fleet.StateInReview: 1})
	_, _ = w.Write([]byte(" warning, in two writes\"\n"))
	p.update(fleet.Counts{fleet.StateApproved: 2})
	p.done()
	got := screenLines(out.String())
	if len(got) != 4 || got[3] != "" {
		t.Fatalf("screen:\n%s\nwant the two warnings, the last row and an empty line", strings.Join(got, "\n"))
	}
	assert.Equal(t, `time=… level=WARN msg="first warning"`, got[0])
	assert.Equal(t, `level=WARN msg="second warning, in two writes"`, got[1])
	assert.Contains(t, got[2], "2/2 final")
	assert.NotContains(t, got[2], "WARN")
}

// One agent waiting is "1 decision".
func TestProgressOneDecision(t *testing.T) {
	var out bytes.Buffer
	p, _ := testProgress(&out, 0)
	p.update(fleet.Counts{fleet.StateInReview: 1, fleet.StateApproved: 1})
	assert.Contains(t, out.String(), "waiting for 1 decision |")
}
