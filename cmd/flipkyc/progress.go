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

// waitingStates are where an agent waits for Flip's decision (an upload
// check or a review), not for the run: they count neither toward the ETA
// nor against the rate.
var waitingStates = []string{fleet.StateAwaitingCheck, fleet.StateInReview}

// rateWindow is how far back the rate (and so the ETA) looks: the run's
// pace now, not its average since it started.
const rateWindow = time.Minute

// progress shows a run's progress: on a terminal one line redrawn in
// place, cut to the terminal's width so that a redraw never wraps; a plain
// line every 5 s otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	width func() int       // the terminal's columns, read at every redraw (it may be resized)
	now   func() time.Time // the clock, a test's own in tests
	start time.Time
	// past is how many agents were past the run's own work when, over the
	// last rateWindow (the oldest first).
	past  []pastAt
	last  time.Time
	drawn bool
	// barCols is the width at which the bar last gave way to the counts:
	// it stays away at that width, so that it does not come and go as the
	// counts' length changes.
	barCols int
}

// pastAt is how many agents were past the run's own work at a time.
type pastAt struct {
	at time.Time
	n  int
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

// phases group the states for a terminal too narrow for the count of each
// (summary's grouped): the run's steps by name, the final states as they
// are.
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

// rate is how many agents per second left the run's own work (for a
// decision or for good) over the last rateWindow (from the last update
// before it), now that past have.
func (p *progress) rate(past int) float64 {
	now := p.now()
	if len(p.past) == 0 {
		p.past = append(p.past, pastAt{p.start, past})
	}
	p.past = append(p.past, pastAt{now, past})
	for len(p.past) > 2 && now.Sub(p.past[1].at) >= rateWindow {
		p.past = p.past[1:]
	}
	oldest := p.past[0]
	if elapsed := now.Sub(oldest.at).Seconds(); elapsed > 0 {
		return max(0, float64(past-oldest.n)/elapsed)
	}
	return 0
}

// summary is the progress line without the bar: agents final, the rate at
// which agents leave the run's own work (for a decision or for good), the
// time that work still needs, and the agents waiting for Flip's decisions,
// whose wait is Flip's and is not guessed; then the count of each state,
// or of each phase (phases) when grouped.
func (p *progress) summary(c fleet.Counts, rateUnit string, grouped bool) string {
	total, active := c.Total(), c.Active()
	waiting := 0
	for _, s := range waitingStates {
		waiting += c[s]
	}
	work := active - waiting // agents the run itself is still working on
	rate := p.rate(total - work)
	parts := []string{fmt.Sprintf("%d/%d final", total-active, total), fmt.Sprintf("%.1f%s", rate, rateUnit)}
	switch eta := time.Duration(float64(work) / rate * float64(time.Second)); {
	case work > 0 && rate > 0 && eta < time.Second:
		parts = append(parts, "ETA <1s")
	case work > 0 && rate > 0:
		parts = append(parts, "ETA "+eta.Round(time.Second).String())
	case work > 0:
		parts = append(parts, "ETA -")
	}
	if waiting > 0 {
		parts = append(parts, "waiting for "+plural(waiting, "decision", "decisions"))
	}
	var states []string
	if grouped {
		for _, ph := range phases {
			n := 0
			for _, s := range ph.states {
				n += c[s]
			}
			if n > 0 {
				states = append(states, fmt.Sprintf("%s %d", ph.name, n))
			}
		}
	} else {
		for _, s := range fleet.States {
			if n := c[s]; n > 0 {
				states = append(states, fmt.Sprintf("%s %d", s, n))
			}
		}
	}
	return strings.Join(parts, ", ") + " | " + strings.Join(states, ", ")
}

func (p *progress) update(c fleet.Counts) {
	if !p.tty {
		line := p.summary(c, " agents/s", false)
		if now := p.now(); now.Sub(p.last) >= 5*time.Second || c.Active() == 0 {
			p.last = now
			fmt.Fprintf(p.w, "progress: %s\n", line)
		}
		return
	}
	// A line as wide as the terminal would wrap (or leave the cursor past
	// the last column): one column is kept free. The counts are of each
	// phase (the states grouped): a terminal's line is short, and the
	// names stay the same from one redraw to the next.
	cols := p.width() - 1
	line := p.summary(c, "/s", true)
	// The bar gives way to the counts: it is drawn only when the whole
	// line fits with it, and once it gave way it stays away at that width.
	if bar := 20; p.barCols != cols {
		if utf8.RuneCountInString(line)+bar+3 <= cols {
			total, final := c.Total(), c.Total()-c.Active()
			filled := 0
			if total > 0 {
				filled = bar * final / total
			}
			line = "[" + strings.Repeat("#", filled) + strings.Repeat(".", bar-filled) + "] " + line
		} else {
			p.barCols = cols
		}
	}
	if t, ok := p.w.(*turnWriter); ok {
		// The log lines written meanwhile take turns with the row.
		t.drawRow(cut(line, cols))
	} else {
		fmt.Fprintf(p.w, "\r\x1b[K%s", cut(line, cols))
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

// cut returns s cut to at most n characters, with "…" as the last when cut.
func cut(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
