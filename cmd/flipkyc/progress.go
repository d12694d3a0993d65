package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/flipkyc/flipkyc/fleet"
)

// requestsLeft is how many of the run's own requests to Flip an agent in
// each state that is not final still needs: create, identity upload,
// selfie upload and submit, or the one correction of a repair. Progress
// is measured in these requests, which Flip's rate limit paces one by one,
// not in whole agents, which the workers finish in batches.
var requestsLeft = map[string]int{
	fleet.StateNew:               4,
	fleet.StateCreating:          4, // the create may not have reached Flip
	fleet.StateCreated:           3,
	fleet.StateUploadingIdentity: 3,
	fleet.StateIdentityUploaded:  2,
	fleet.StateUploadingSelfie:   2,
	fleet.StateAwaitingCheck:     1, // the submit, once Flip's upload check passed
	fleet.StateChecked:           1,
	fleet.StateSubmitting:        1,
	fleet.StateInReview:          0,
	fleet.StateRepairQueued:      1,
	fleet.StateRepairing:         1,
}

// waitingStates are where an agent waits for Flip's decision (an upload
// check or a review), not for the run.
var waitingStates = []string{fleet.StateAwaitingCheck, fleet.StateInReview}

// rateWindow is how far back the rate looks, and paceWindow how much of
// the time the run had work to do the ETA's pace looks at: the run's pace
// now, not its average since it started.
const (
	rateWindow = time.Minute
	paceWindow = time.Minute
)

// etaRaiseAfter is how long the estimate must stay more than a quarter
// above the ETA shown before the ETA is raised to it: a pace that truly
// dropped, not the jitter of one redraw.
const etaRaiseAfter = 10 * time.Second

// progress shows a run's progress: on a terminal one line redrawn in
// place, fitted to the terminal's width so that a redraw never wraps; a
// plain line every 5 s otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	width func() int       // the terminal's columns, read at every redraw (it may be resized)
	now   func() time.Time // the clock, a test's own in tests
	start time.Time
	last  time.Time // the last plain line
	drawn bool
	// barCols is the width at which the bar last gave way to the counts:
	// it stays away at that width, so that it does not come and go as the
	// counts' length changes. wordingCols and wording are the same for
	// the shorter wordings: the shortest used at that width stays.
	barCols, wordingCols, wording int
	calm                          int // redraws in a row a longer wording showed every count

	observed     bool
	lastAt       time.Time
	lastLeft     int // requests left at the last update
	lastRunnable int // of them, those not waiting for a decision
	// sent is the count of requests done, over the last rateWindow;
	// paced, over the last paceWindow of time with work to do, that time
	// and the requests done in it.
	sent, paced     []sample
	sentN, busyDone int
	busy            time.Duration
	// eta is the ETA shown (etaSet once there is one); highSince is when
	// the estimate last went more than a quarter above it (zero: it is not).
	eta       time.Duration
	etaSet    bool
	highSince time.Time
}

// sample is a cumulative count of requests done at x (time since the run
// started, or time with work to do).
type sample struct {
	x time.Duration
	n int
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, now: time.Now, width: func() int { return 80 }}
	// The command's own output goes through its secret scrubber, and
	// takes turns with the fleet's log lines.
	under := w
	if t, ok := under.(*turnWriter); ok {
		under = t.w
	}
	if s, ok := under.(secretScrubber); ok {
		under = s.w
	}
	if f, ok := under.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
		p.width = func() int {
			if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
				return cols
			}
			return 80
		}
	}
	p.start = p.now()
	return p
}

// phases group the states for a terminal's short line: the run's steps by
// name, the final states as they are.
var phases = []struct {
	name   string
	states []string
}{
	{"creating", []string{fleet.StateNew, fleet.StateCreating, fleet.StateCreated}},
	{"uploading", []string{fleet.StateUploadingIdentity, fleet.StateIdentityUploaded, fleet.StateUploadingSelfie}},
	{"checking", []string{fleet.StateAwaitingCheck, fleet.StateChecked}},
	{"in review", []string{fleet.StateSubmitting, fleet.StateInReview}},
	{"repairing", []string{fleet.StateRepairQueued, fleet.StateRepairing}},
	{fleet.StateApproved, []string{fleet.StateApproved}},
	{fleet.StateRejected, []string{fleet.StateRejected}},
	{fleet.StateUploadFailed, []string{fleet.StateUploadFailed}},
	{fleet.StateAttention, []string{fleet.StateAttention}},
}

// workLeft is the run's own requests left for the agents counted in c,
// and of them those it can send now (not waiting for Flip's decision).
func workLeft(c fleet.Counts) (left, runnable int) {
	for s, n := range c {
		left += n * requestsLeft[s]
	}
	runnable = left
	for _, s := range waitingStates {
		runnable -= c[s] * requestsLeft[s]
	}
	return left, runnable
}

// push appends s to ss and drops the samples before the window that ends
// at s, keeping one at or before its start.
func push(ss []sample, s sample, window time.Duration) []sample {
	ss = append(ss, s)
	for len(ss) > 2 && s.x-ss[1].x >= window {
		ss = ss[1:]
	}
	return ss
}

// perSecond is the requests done per second from the first sample to the
// last (0 when no time passed).
func perSecond(ss []sample) float64 {
	if len(ss) < 2 {
		return 0
	}
	first, last := ss[0], ss[len(ss)-1]
	if last.x <= first.x {
		return 0
	}
	return float64(last.n-first.n) / (last.x - first.x).Seconds()
}

// observe takes the counts of an update and returns the requests sent per
// second over the last rateWindow and the ETA to show (ok false: none).
//
// Requests done are the fall of the requests left from one update to the
// next (an agent parked, or final before its submit, counts the requests
// it no longer needs as done; a repair's new work counts against the
// requests done in the same second). The ETA is the requests left (those waiting for a decision too)
// at the pace the run keeps while it has work to do: time spent waiting
// for Flip's decisions does not slow the pace, and while every agent
// waits there is no ETA, only the decisions. The ETA shown follows every
// lower estimate and stays when the estimate is higher: it is raised only
// when the estimate stayed more than a quarter above it for etaRaiseAfter
// (the pace truly dropped, or a repair added work), so it does not climb
// from one redraw to the next with the pace's jitter.
func (p *progress) observe(c fleet.Counts) (rate float64, eta time.Duration, ok bool) {
	now := p.now()
	left, runnable := workLeft(c)
	if !p.observed {
		p.observed = true
		p.sent = []sample{{0, 0}}
		p.paced = []sample{{0, 0}}
		p.lastAt, p.lastLeft, p.lastRunnable = p.start, left, runnable
	}
	elapsed, did := now.Sub(p.lastAt), max(0, p.lastLeft-left)
	p.sentN += did
	if p.lastRunnable > 0 && elapsed > 0 {
		p.busy += elapsed
		p.busyDone += did
		p.paced = push(p.paced, sample{p.busy, p.busyDone}, paceWindow)
	}
	p.lastAt, p.lastLeft, p.lastRunnable = now, left, runnable
	p.sent = push(p.sent, sample{now.Sub(p.start), p.sentN}, rateWindow)
	rate = perSecond(p.sent)

	pace := perSecond(p.paced)
	if runnable == 0 || pace <= 0 {
		return rate, 0, false
	}
	estimate := time.Duration(float64(left) / pace * float64(time.Second))
	switch {
	case !p.etaSet || estimate <= p.eta:
		p.eta, p.etaSet, p.highSince = estimate, true, time.Time{}
	case estimate <= p.eta+p.eta/4:
		p.highSince = time.Time{}
	case p.highSince.IsZero():
		p.highSince = now
	case now.Sub(p.highSince) >= etaRaiseAfter:
		p.eta, p.highSince = estimate, time.Time{}
	}
	return rate, p.eta, true
}

// head is the part of the line before the counts, each part in its long
// and its short wording ("" when it has none).
type head struct {
	final, rate, eta, waiting [2]string
}

// heads are the ways to write h, from the longest to the shortest: the
// shorter wordings first, then, for a terminal too narrow for any count
// beside them, without the rate and the decisions, with only the agents
// final, and without a head.
func (h head) heads() []string {
	var out []string
	for _, form := range []struct {
		final, rate, eta, waiting int // 0 long, 1 short, -1 left out
		sep                       string
	}{{0, 0, 0, 0, ", "}, {0, 1, 1, 0, ", "}, {0, 1, 1, 1, ", "}, {1, 1, 1, 1, " "}, {1, -1, 1, -1, " "}, {1, -1, -1, -1, " "}, {-1, -1, -1, -1, ""}} {
		var parts []string
		for _, part := range []struct {
			words [2]string
			form  int
		}{{h.final, form.final}, {h.rate, form.rate}, {h.eta, form.eta}, {h.waiting, form.waiting}} {
			if part.form >= 0 && part.words[part.form] != "" {
				parts = append(parts, part.words[part.form])
			}
		}
		out = append(out, strings.Join(parts, form.sep))
	}
	return out
}

// calmRedraws is how many redraws in a row a longer wording must show
// every count before it comes back.
const calmRedraws = 10

// wordings is how many of heads' ways keep every part of the head.
const wordings = 4

// cutMark ends a line whose trailing counts were left out.
const cutMark = "…"

// fit returns the head and as many whole counts as fit in cols columns,
// the left-out ones marked, and how many counts it shows (-1: not even
// the head fits).
func fit(h string, counts []string, cols int) (string, int) {
	for k := len(counts); k >= 0; k-- {
		shown := strings.Join(counts[:k], ", ")
		if k < len(counts) {
			shown = strings.TrimPrefix(shown+" "+cutMark, " ")
		}
		line := h
		switch {
		case h == "":
			line = shown
		case shown != "":
			line += " | " + shown
		}
		if utf8.RuneCountInString(line) <= cols {
			return line, k
		}
	}
	return "", -1
}

// layout returns the line for a terminal of cols columns: the head in the
// longest wording with which the most counts fit, whole counts only, the
// left-out ones marked. Only when no count fits beside the shortest
// wording are parts of the head left out for one. A shorter wording once
// used at a width stays at that width, so that the line does not switch
// wordings from one redraw to the next, until a longer one showed every
// count for calmRedraws redraws in a row (the run's end, say).
func (p *progress) layout(h head, counts []string, cols int) string {
	if p.wordingCols != cols {
		p.wordingCols, p.wording, p.calm = cols, 0, 0
	}
	heads := h.heads()
	longer := -1
	for i := range p.wording {
		if _, k := fit(heads[i], counts, cols); k == len(counts) {
			longer = i
			break
		}
	}
	switch {
	case longer < 0:
		p.calm = 0
	case p.calm+1 < calmRedraws:
		p.calm++
	default:
		p.wording, p.calm = longer, 0
	}
	best, shown, used := "", -1, p.wording
	for i := p.wording; i < wordings; i++ {
		if line, k := fit(heads[i], counts, cols); k > shown {
			best, shown, used = line, k, i
		}
	}
	if shown <= 0 && len(counts) > 0 {
		for _, hd := range heads[wordings:] {
			if line, k := fit(hd, counts, cols); k > 0 {
				return line
			}
		}
	}
	if shown < 0 {
		return cutWords(heads[wordings-1], cols)
	}
	p.wording = used
	return best
}

// cutWords returns as many whole words of s as fit in cols columns, the
// left-out ones marked.
func cutWords(s string, cols int) string {
	if utf8.RuneCountInString(s) <= cols {
		return s
	}
	words := strings.Fields(s)
	for k := len(words) - 1; k > 0; k-- {
		if line := strings.Join(words[:k], " ") + " " + cutMark; utf8.RuneCountInString(line) <= cols {
			return line
		}
	}
	if cols >= 1 {
		return cutMark
	}
	return ""
}

// headOf is the head of the line for counts c: agents final, the requests
// sent per second, the ETA of the run's own requests left, and the agents
// waiting for Flip's decisions, whose wait is Flip's and is not guessed.
func (p *progress) headOf(c fleet.Counts) head {
	total, active := c.Total(), c.Active()
	waiting := 0
	for _, s := range waitingStates {
		waiting += c[s]
	}
	rate, eta, etaOK := p.observe(c)
	h := head{
		final: [2]string{fmt.Sprintf("%d/%d final", total-active, total), fmt.Sprintf("%d/%d", total-active, total)},
		rate:  [2]string{fmt.Sprintf("%.1f requests/s", rate), fmt.Sprintf("%.1f/s", rate)},
	}
	if _, runnable := workLeft(c); runnable > 0 {
		text := "ETA -"
		switch {
		case etaOK && eta < time.Second:
			text = "ETA <1s"
		case etaOK:
			text = "ETA " + eta.Round(time.Second).String()
		}
		h.eta = [2]string{text, text}
	}
	if waiting > 0 {
		// Said in full at any width where it shows: it is what the run
		// waits for, in place of an ETA for Flip's decisions.
		w := "waiting for " + plural(waiting, "decision", "decisions")
		h.waiting = [2]string{w, w}
	}
	return h
}

// counts are the count of each state, or of each phase (phases) when
// grouped, in the flow's order, those with agents only.
func counts(c fleet.Counts, grouped bool) []string {
	var out []string
	if !grouped {
		for _, s := range fleet.States {
			if n := c[s]; n > 0 {
				out = append(out, fmt.Sprintf("%s %d", s, n))
			}
		}
		return out
	}
	for _, ph := range phases {
		n := 0
		for _, s := range ph.states {
			n += c[s]
		}
		if n > 0 {
			out = append(out, fmt.Sprintf("%s %d", ph.name, n))
		}
	}
	return out
}

func (p *progress) update(c fleet.Counts) {
	h := p.headOf(c)
	if !p.tty {
		if now := p.now(); now.Sub(p.last) >= 5*time.Second || c.Active() == 0 {
			p.last = now
			fmt.Fprintf(p.w, "progress: %s | %s\n", h.heads()[0], strings.Join(counts(c, false), ", "))
		}
		return
	}
	// A line as wide as the terminal would wrap (or leave the cursor past
	// the last column): one column is kept free. The counts are of each
	// phase (the states grouped): a terminal's line is short, and the
	// names stay the same from one redraw to the next.
	cols := p.width() - 1
	grouped := counts(c, true)
	if c.Active() == 0 {
		// The run's last line, which stays on the screen, is said in the
		// longest wording that fits: nothing will change after it.
		p.wording, p.calm = 0, 0
	}
	line := p.layout(h, grouped, cols)
	// The bar gives way to the counts: it is drawn only when the whole
	// line fits with it, in its longest wording, and once it gave way it
	// stays away at that width.
	if bar := 20; p.barCols != cols {
		full, k := fit(h.heads()[0], grouped, cols-bar-3)
		if k == len(grouped) {
			total, final := c.Total(), c.Total()-c.Active()
			filled := 0
			if total > 0 {
				filled = bar * final / total
			}
			line = "[" + strings.Repeat("#", filled) + strings.Repeat(".", bar-filled) + "] " + full
		} else {
			p.barCols = cols
		}
	}
	if t, ok := p.w.(*turnWriter); ok {
		// The log lines written meanwhile take turns with the row.
		t.drawRow(line)
	} else {
		fmt.Fprintf(p.w, "\r\x1b[K%s", line)
	}
	p.drawn = true
}

func (p *progress) done() {
	if !p.drawn {
		return
	}
	if t, ok := p.w.(*turnWriter); ok {
		t.endRow()
		return
	}
	fmt.Fprintln(p.w)
}
