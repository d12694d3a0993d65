package main

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
// when every agent is final; the rate is of requests, the states by name.
func TestProgressPlain(t *testing.T) {
	var out bytes.Buffer
	p, now := testProgress(&out, 0)
	p.update(fleet.Counts{"new": 4})
	*now = now.Add(time.Second)
	p.update(fleet.Counts{"new": 2, "created": 1, "approved": 1}) // not due
	*now = now.Add(time.Second)
	p.update(fleet.Counts{"approved": 3, "rejected": 1})
	p.done()
	assert.Equal(t, "progress: 0/4 final, 0.0 requests/s, ETA - | new 4\n"+
		"progress: 4/4 final, 8.0 requests/s | approved 3, rejected 1\n", out.String())
}

// etaOf returns the seconds of the ETA in a progress line (ok false: it
// shows none, or "ETA -").
func etaOf(t *testing.T, line string) (seconds float64, ok bool) {
	t.Helper()
	m := regexp.MustCompile(`ETA (<1s|[0-9hms.]+)`).FindStringSubmatch(line)
	if m == nil {
		return 0, false
	}
	if m[1] == "<1s" {
		return 0, true
	}
	d, err := time.ParseDuration(m[1])
	require.NoError(t, err, line)
	return d.Seconds(), true
}

// The ETA counts the run's own requests: agents waiting for Flip's
// decision do not make it climb; when only they are left, the line says
// how many instead.
func TestProgressETAIgnoresDecisions(t *testing.T) {
	var out bytes.Buffer
	p, now := testProgress(&out, 200)
	steps := []struct {
		at     time.Duration
		counts fleet.Counts
		want   string
	}{
		{0, fleet.Counts{"new": 10}, "0/10 final, 0.0 requests/s, ETA - | creating 10"},
		// 4 agents went through create and uploads (12 requests) in 1 s,
		// and wait for their check: their submits are still to come.
		{time.Second, fleet.Counts{"new": 6, "awaiting_check": 4}, "0/10 final, 12.0 requests/s, ETA 2s, waiting for 4 decisions | creating 6, checking 4"},
		{2 * time.Second, fleet.Counts{"new": 2, "awaiting_check": 4, "in_review": 4}, "0/10 final, 14.0 requests/s, ETA <1s, waiting for 8 decisions | creating 2, checking 4, in review 4"},
		// Ten seconds of waiting: no ETA to climb, only the decisions.
		{10 * time.Second, fleet.Counts{"in_review": 10}, "0/10 final, 4.0 requests/s, waiting for 10 decisions | in review 10"},
		{11 * time.Second, fleet.Counts{"in_review": 2, "approved": 8}, "8/10 final, 3.6 requests/s, waiting for 2 decisions | in review 2, approved 8"},
	}
	for i, st := range steps {
		*now = p.start.Add(st.at)
		out.Reset()
		p.update(st.counts)
		line := strings.TrimPrefix(out.String(), "\r\x1b[K")
		assert.Equal(t, st.want, line[strings.Index(line, "] ")+2:], "step %d", i)
	}
}

// Every state that is not final has its count of requests left, so that
// a state added to the fleet is not silently taken as no work.
func TestProgressKnowsEveryState(t *testing.T) {
	for _, s := range fleet.States {
		_, ok := requestsLeft[s]
		assert.Equal(t, !fleet.Final(s), ok, s)
	}
}

// The run's requests left for an agent in each state, and of them those it
// can send now: an agent waiting for Flip's upload check still needs its
// submit, but not before the check.
func TestProgressWorkLeft(t *testing.T) {
	for _, c := range []struct {
		state          string
		left, runnable int
	}{
		{fleet.StateNew, 4, 4}, {fleet.StateCreating, 4, 4}, {fleet.StateCreated, 3, 3},
		{fleet.StateUploadingIdentity, 3, 3}, {fleet.StateIdentityUploaded, 2, 2}, {fleet.StateUploadingSelfie, 2, 2},
		{fleet.StateAwaitingCheck, 1, 0}, {fleet.StateChecked, 1, 1}, {fleet.StateSubmitting, 1, 1},
		{fleet.StateInReview, 0, 0}, {fleet.StateRepairQueued, 1, 1}, {fleet.StateRepairing, 1, 1},
		{fleet.StateApproved, 0, 0}, {fleet.StateRejected, 0, 0}, {fleet.StateUploadFailed, 0, 0}, {fleet.StateAttention, 0, 0},
	} {
		left, runnable := workLeft(fleet.Counts{c.state: 3})
		assert.Equal(t, [2]int{3 * c.left, 3 * c.runnable}, [2]int{left, runnable}, c.state)
	}
}

// runModel plays a run of n agents the way the fleet works it, and
// returns its counts once a second until every agent is final: workers
// River workers each take an agent through create and its two uploads
// (one job), then, once Flip's upload check passed, a submit; every
// request waits its turn at Flip's rate limit, about ratePerSecond before
// slowAt and slowRate after (each gap drawn at random, from half to one
// and a half of the mean, with a fixed seed); Flip's check and review
// take decision each.
func runModel(n, workers int, ratePerSecond, slowRate float64, slowAt, decision time.Duration) []fleet.Counts {
	random := rand.New(rand.NewPCG(21, uint64(n)))
	state := make([]string, n)
	for i := range state {
		state[i] = fleet.StateNew
	}
	next := map[string]string{ // a request's state to the one after it
		fleet.StateCreating: fleet.StateUploadingIdentity, fleet.StateUploadingIdentity: fleet.StateUploadingSelfie,
		fleet.StateUploadingSelfie: fleet.StateAwaitingCheck, fleet.StateSubmitting: fleet.StateInReview,
	}
	decided := map[string]string{fleet.StateAwaitingCheck: fleet.StateChecked, fleet.StateInReview: fleet.StateApproved}
	jobs := make([]int, n) // agents whose job is queued, oldest first
	for i := range jobs {
		jobs[i] = i
	}
	type decisionAt struct {
		agent int
		at    time.Duration
	}
	var decisions []decisionAt
	var requests []int // agents whose request waits for the rate limit, by worker
	busy := 0
	var out []fleet.Counts
	var at, sampled time.Duration
	for {
		for at >= sampled {
			c := fleet.Counts{}
			for _, s := range state {
				c[s]++
			}
			out = append(out, c)
			if c.Active() == 0 {
				return out
			}
			sampled += time.Second
		}
		for len(decisions) > 0 && decisions[0].at <= at {
			a := decisions[0].agent
			decisions = decisions[1:]
			state[a] = decided[state[a]]
			if state[a] == fleet.StateChecked {
				jobs = append(jobs, a)
			}
		}
		for busy < workers && len(jobs) > 0 {
			a := jobs[0]
			jobs = jobs[1:]
			busy++
			if state[a] == fleet.StateNew {
				state[a] = fleet.StateCreating
			} else {
				state[a] = fleet.StateSubmitting
			}
			requests = append(requests, a)
		}
		rate := ratePerSecond
		if at >= slowAt {
			rate = slowRate
		}
		at += time.Duration((0.5 + random.Float64()) * float64(time.Second) / rate)
		if len(requests) == 0 {
			continue
		}
		a := requests[0]
		requests = requests[1:]
		state[a] = next[state[a]]
		if state[a] == fleet.StateAwaitingCheck || state[a] == fleet.StateInReview {
			busy--
			decisions = append(decisions, decisionAt{a, at + decision})
		} else {
			requests = append(requests, a)
		}
	}
}

// The ETA shown does not climb from one redraw to the next while the run
// keeps its pace, though its workers finish agents in batches and agents
// wait for decisions meanwhile, and it tells the time the run's requests
// still take; when the pace truly drops, the ETA is raised, each time
// only after the estimate stayed well above it for etaRaiseAfter, until
// it tells the time left at the new pace.
func TestProgressETADoesNotClimb(t *testing.T) {
	for _, c := range []struct {
		name            string
		agents, workers int
		rate, slowRate  float64
		slowAt          time.Duration
	}{
		{"120 agents at 20 requests/s", 120, 10, 20, 20, 0},
		{"1000 agents at 20 requests/s", 1000, 10, 20, 20, 0},
		{"300 agents at 100 requests/s", 300, 10, 100, 100, 0},
		{"1000 agents at 100 requests/s, 50 workers", 1000, 50, 100, 100, 0},
		{"600 agents, 20 requests/s then 8", 600, 10, 20, 8, 30 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			p, now := testProgress(&out, 200)
			type shown struct {
				at, eta float64
			}
			var etas []shown
			var raises []float64
			waited := false
			for i, counts := range runModel(c.agents, c.workers, c.rate, c.slowRate, c.slowAt, 4*time.Second) {
				*now = p.start.Add(time.Duration(i) * time.Second)
				out.Reset()
				p.update(counts)
				eta, ok := etaOf(t, out.String())
				waited = waited || strings.Contains(out.String(), "waiting for")
				if !ok {
					continue
				}
				if len(etas) > 0 && eta > etas[len(etas)-1].eta {
					raises = append(raises, float64(i))
				}
				etas = append(etas, shown{float64(i), eta})
			}
			require.Greater(t, len(etas), 5, "an ETA shown while the run works")
			assert.True(t, waited, "agents waited for decisions")
			slowed := c.slowRate < c.rate
			if !slowed {
				assert.Empty(t, raises, "ETAs shown: %v", etas)
			} else {
				assert.NotEmpty(t, raises, "the slower pace shown: %v", etas)
				from := c.slowAt.Seconds()
				for _, at := range raises {
					assert.GreaterOrEqual(t, at-from, etaRaiseAfter.Seconds(), "raised at %vs: %v", at, etas)
					from = at
				}
			}
			// Once the pace is known (after the first few redraws, or the
			// last raise), the ETA is the time to the last redraw with
			// work to do, give or take a fifth (or 3 s).
			end := etas[len(etas)-1].at + 1
			for i, e := range etas {
				if i < 5 || len(raises) > 0 && e.at < raises[len(raises)-1] {
					continue
				}
				left := end - e.at
				assert.InDelta(t, left, e.eta, max(3, left/5), "at %vs: %v", e.at, etas)
			}
		})
	}
}

// On a terminal every redraw fits the width, one column kept free, so it
// never wraps; the counts are cut between whole items only, the cut
// marked, and the head takes a shorter wording (then fewer parts) so that
// counts fit beside it.
func TestProgressFitsTheTerminal(t *testing.T) {
	big := fleet.Counts{"new": 1000, "creating": 10, "created": 10, "uploading_identity": 5, "identity_uploaded": 3,
		"uploading_selfie": 2, "awaiting_check": 40, "checked": 4, "submitting": 2, "in_review": 300, "approved": 9000,
		"rejected": 12, "attention": 3}
	bigItems := []string{"creating 1020", "uploading 10", "checking 44", "in review 302", "approved 9000", "rejected 12", "attention 3"}
	mid := fleet.Counts{"new": 20, "creating": 10, "uploading_selfie": 10, "awaiting_check": 40, "in_review": 20, "approved": 20}
	midItems := []string{"creating 30", "uploading 10", "checking 40", "in review 20", "approved 20"}
	for _, counts := range []struct {
		counts fleet.Counts
		items  []string
	}{{big, bigItems}, {mid, midItems}} {
		for _, width := range []int{200, 120, 100, 81, 80, 79, 60, 41, 40, 30, 21, 20, 16, 10, 2, 1} {
			var out bytes.Buffer
			p, _ := testProgress(&out, width)
			p.update(counts.counts)
			p.update(counts.counts)
			p.done()
			redraws := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\r\x1b[K")[1:]
			require.Len(t, redraws, 2)
			for _, r := range redraws {
				assert.LessOrEqual(t, utf8.RuneCountInString(r), max(width-1, 0), "width %d: %q", width, r)
				assert.NotContains(t, r, "\n")
				shown := r
				if i := strings.Index(r, " | "); i >= 0 {
					shown = r[i+3:]
				} else if width > 41 {
					t.Errorf("width %d: no counts in %q", width, r)
				}
				if width >= 16 {
					// Whole counts, in order, the cut marked after the last.
					whole := strings.TrimSuffix(shown, " "+cutMark)
					got := strings.Split(whole, ", ")
					require.NotEmpty(t, got[0], "width %d: %q", width, r)
					assert.Equal(t, counts.items[:len(got)], got, "width %d: %q", width, r)
					assert.Equal(t, len(got) < len(counts.items), whole != shown, "width %d: cut marked: %q", width, r)
				}
			}
		}
	}
	for _, c := range []struct {
		width  int
		counts fleet.Counts
		want   string
	}{
		{200, big, "[#################...] 9015/10391 final, 0.0 requests/s, ETA -, waiting for 340 decisions | creating 1020, uploading 10, checking 44, in review 302, approved 9000, rejected 12, attention 3"},
		{120, big, "9015/10391 final, 0.0/s, ETA -, waiting for 340 decisions | creating 1020, uploading 10, checking 44, in review 302 …"},
		{80, big, "9015/10391 final, 0.0/s, ETA -, waiting for 340 decisions | creating 1020 …"},
		{40, big, "9015/10391 ETA - | creating 1020 …"},
		{20, big, "creating 1020 …"},
		{80, mid, "20/120 0.0/s ETA - waiting for 60 decisions | creating 30, uploading 10 …"},
		{40, mid, "20/120 ETA - | creating 30 …"},
		{20, mid, "creating 30 …"},
		{80, fleet.Counts{fleet.StateInReview: 2, fleet.StateApproved: 5}, "5/7 final, 0.0 requests/s, waiting for 2 decisions | in review 2, approved 5"},
		{120, fleet.Counts{fleet.StateInReview: 2, fleet.StateApproved: 5}, "[##############......] 5/7 final, 0.0 requests/s, waiting for 2 decisions | in review 2, approved 5"},
	} {
		var out bytes.Buffer
		p, _ := testProgress(&out, c.width)
		p.update(c.counts)
		assert.Equal(t, "\r\x1b[K"+c.want, out.String(), "width %d", c.width)
	}
}

// short and long are counts whose lines, at 90 or 100 columns, fit whole
// with every part of their head, and do not.
var (
	short = fleet.Counts{fleet.StateInReview: 2, fleet.StateApproved: 5}
	long  = fleet.Counts{fleet.StateNew: 1, fleet.StateUploadingSelfie: 1, fleet.StateAwaitingCheck: 1, fleet.StateInReview: 2,
		fleet.StateApproved: 5, fleet.StateRejected: 1, fleet.StateAttention: 1}
)

// resizableProgress is a terminal's progress on out whose width is
// *width, read at every redraw.
func resizableProgress(out *bytes.Buffer, width *int) *progress {
	p, _ := testProgress(out, *width)
	p.width = func() int { return *width }
	return p
}

// A shorter wording once used at a width stays at that width, so that the
// line does not switch wordings as the counts' length changes; the longest
// comes back when the terminal is resized, or once it showed every count
// for calmRedraws redraws in a row.
func TestProgressWordingStays(t *testing.T) {
	var out bytes.Buffer
	width := 90
	p := resizableProgress(&out, &width)
	longest := func(c fleet.Counts) bool {
		out.Reset()
		p.update(c)
		return strings.Contains(out.String(), "requests/s")
	}
	var got []bool
	for _, c := range []fleet.Counts{short, long, short, long} {
		got = append(got, longest(c))
	}
	assert.Equal(t, []bool{true, false, false, false}, got)
	width = 200
	assert.True(t, longest(short), "resized")
	width = 90
	assert.False(t, longest(long))
	for i := range calmRedraws - 1 {
		assert.False(t, longest(short), "redraw %d", i)
	}
	assert.True(t, longest(short), "calm for %d redraws", calmRedraws)
	// The run's last line, every agent final, is in the longest wording
	// at once.
	assert.False(t, longest(long))
	assert.True(t, longest(fleet.Counts{fleet.StateApproved: 7}), "the last line")
}

// Once the bar gave way to a longer line it stays away at that width,
// whatever the next lines' length, and comes back when the terminal is
// resized.
func TestProgressBarDoesNotComeAndGo(t *testing.T) {
	var out bytes.Buffer
	width := 100
	p := resizableProgress(&out, &width)
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
// its average since it started: 400 requests a minute (100 agents, 4
// requests each), then 1200 in 30 s.
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
	assert.Equal(t, "progress: 800/1000 final, 17.8 requests/s, ETA 45s | new 200, approved 800\n", out.String())
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
