package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
)

const fleetColumnsHelp = `The CSV has a header line naming its columns, in any order:
  name, identity_type (ktp or passport), identity_number, birth_date
  (DD-MM-YYYY), birth_place, gender (male or female), occupation,
  country_id, province_id, city_id, district_id (ids from 'flipkyc
  locations'), address, phone_number, email (optional), identity_image and
  selfie_image (PNG or JPEG files in --images, by default the CSV's
  directory, named relative to it). The identity number is the row's key:
  one agent per number.

Images are read only inside --images: an absolute path, a '..' that leaves
it, or a symbolic link that points out of it makes the row bad, as does a
file that is not a PNG or JPEG of Flip's rules (under 2 MB, 256 to 4096
pixels a side). Every image is checked while the CSV is read, before
anything is sent.`

var onboardCommand = &command{
	path:    "onboard",
	summary: "onboard every agent of a CSV as durable jobs; re-running resumes",
	help: `Takes each row of --csv through create, identity image, selfie, upload check,
submit and decision, as durable jobs (River) in --db: a SQLite file beside the
CSV by default (no server), or a Postgres database (postgres://…) shared by
several machines running the same command. Stops when every agent is
approved, rejected, failed its upload check or needs attention.

` + fleetColumnsHelp + `

Bad rows are reported with line, field and rule, and the others go on.
Running the same command again resumes the run: nothing that took effect is
sent again. A create whose outcome is unknown (or a 2002 duplicate) is never
re-sent: the agent is parked as needing attention with its Request-ID.

Callbacks advance the run when it receives them itself (--listen ADDR, with
the token from ` + envCallbackToken + `, while the command runs) or when
'flipkyc listen --db' (the same --db) does; without them, or when one is lost,
agents are read from Flip once they have waited --stale-after. A callback for
an agent the run does not have is stored, answered 200 and reported on stderr
by agent id: it belongs to another run, which reads that agent from Flip. Requests to Flip are limited to --rate per second
in all (on Postgres, across machines).

Progress goes to stderr: a bar on a terminal, a line every 5 s otherwise.
Exit status 1 when a row was bad or an agent needs attention.`,
	examples: []string{
		"flipkyc onboard --csv examples/fleet/agents.csv",
		"flipkyc onboard --csv agents.csv --listen 127.0.0.1:8080",
		"flipkyc onboard --csv agents.csv --images photos/ --db postgres://fleet@db/fleet --workers 20 --rate 10",
	},
	flip: true,
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		o := fleetFlags(fs)
		return func(args []string) error {
			if err := needArgs(args); err != nil {
				return err
			}
			return e.onboard(o, false)
		}
	},
}

var repairCommand = &command{
	path:    "repair",
	summary: "send the corrections of a CSV for rejected agents, then resume them",
	help: `Reads corrections from --csv, one row per agent: identity_number and the
correction its rejection calls for (see 'flipkyc status'): corrected data
columns (code 10), identity_image (codes 14-21), selfie_image (codes 23-27)
or documents, TYPE=FILE pairs separated by ';' (family_card, npwp,
bpjs_kesehatan, …; codes 11, 13, 17, 21, 31-33 and a failed upload check).
For an agent parked at its create (outcome unknown, or already registered:
2002), a row gives identity_number and agent_id, the id Flip has for it: the
run checks it with Flip and takes the agent on without creating it again.
For one whose create's outcome is unknown and that Flip, asked with the
create's Request-ID (see 'flipkyc status'), confirms it never created, a
row gives identity_number and not_created, that Request-ID: the run creates
the agent again under a new Request-ID. Nothing is created again without it.
Then works the run, as onboard does, until those agents are decided again.
--db defaults to the file beside the repair CSV; give the run's --db (a
SQLite file that does not exist is an error, not a new run).`,
	examples: []string{
		"flipkyc repair --csv fixes.csv --db examples/fleet/agents.fleet.db",
	},
	flip: true,
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		o := fleetFlags(fs)
		return func(args []string) error {
			if err := needArgs(args); err != nil {
				return err
			}
			return e.onboard(o, true)
		}
	},
}

var statusCommand = &command{
	path:    "status",
	summary: "a run's agents per state, rejections with their fix, agents needing attention",
	help: `Reads a run's database (--db, or the file beside --csv) and prints the number
of agents in each state, the rejections by code with the fix each calls for,
and the agents that need attention with why, by CSV line and agent id.
--export FILE writes one line per agent as CSV (line, identity number, agent
id, state, KYC status, rejection code, fix, reason, create Request-ID),
readable by its owner only: identity numbers are personal data. FILE must
be a regular file or a new one (a link writes the file it names); the run's
database and its files, any other run's database and its files,
directories and devices are refused. It is written
through a temporary file beside it and renamed, so it is replaced whole or
not at all. A cell that starts with =, +, -, @, a tab or a carriage return
gets a leading ' so that a spreadsheet does not run it as a formula, and a
cell holding a comma, semicolon or tab is quoted whole, so that no part of
it becomes a cell of its own.`,
	examples: []string{
		"flipkyc status --csv examples/fleet/agents.csv",
		"flipkyc status --db postgres://fleet@db/fleet --json",
	},
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		csvPath := fs.String("csv", "", "the run's CSV (its database is the file beside it)")
		db := fs.String("db", "", "the run's database: a SQLite file or postgres://…")
		export := fs.String("export", "", "write every agent to this CSV file")
		return func(args []string) error {
			if err := needArgs(args); err != nil {
				return err
			}
			dsn := *db
			if dsn == "" {
				if *csvPath == "" {
					return usagef("give --db or --csv")
				}
				dsn = defaultDB(*csvPath)
			}
			if err := e.useDSN(dsn); err != nil {
				return err
			}
			if !fleet.IsPostgres(dsn) {
				if _, err := os.Stat(dsn); err != nil {
					return inputErrorf("no run at %s: %v", showDSN(dsn), withoutPath(err))
				}
			}
			var target string
			if *export != "" {
				var err error
				if target, err = outputTarget("--export", *export, dsn); err != nil {
					return err
				}
			}
			d, err := e.openRun(dsn)
			if err != nil {
				return err
			}
			defer d.Close()
			sum, err := d.Summarize(e.ctx)
			if err != nil {
				return err
			}
			if target != "" {
				if err := exportRecords(e.ctx, d, target); err != nil {
					return err
				}
			}
			e.printSummary(sum)
			return nil
		}
	},
}

// The range of --rate. minRate, one request every 10 s, is about the
// slowest at which an agent's first step (a create and two uploads, with a
// retry or two) still fits in the 2 minutes a step may take; above maxRate
// the shared limiter, which counts in microseconds, no longer spaces
// requests at all. NaN and infinities are outside the range.
const (
	minRate = 0.1
	maxRate = 1e6
)

type fleetOptions struct {
	csv, images, db     *string
	listen              *string
	workers             *int
	rate                *float64
	staleAfter, recEach *time.Duration
}

func fleetFlags(fs *flag.FlagSet) fleetOptions {
	return fleetOptions{
		csv:        fs.String("csv", "", "the CSV file (required)"),
		images:     fs.String("images", "", "directory of the image files the CSV names, relative to it; no file outside it is read (default: the CSV's directory)"),
		db:         fs.String("db", "", "the run's database: a SQLite file (default: the CSV's name with .fleet.db) or postgres://…"),
		workers:    fs.Int("workers", 10, "steps run at once by this process"),
		rate:       fs.Float64("rate", fleet.DefaultRate, "most requests per second to Flip, in all (shared across machines on Postgres), from 0.1 to 1000000"),
		staleAfter: fs.Duration("stale-after", 2*time.Minute, "read an agent from Flip when its callback is this late"),
		recEach:    fs.Duration("reconcile-every", 15*time.Second, "how often to look for late callbacks"),
		listen:     fs.String("listen", "", "receive Flip's callbacks on this address (host:port) into this run while it works; the token from "+envCallbackToken),
	}
}

// defaultDB is the SQLite file beside a CSV.
func defaultDB(csvPath string) string {
	return strings.TrimSuffix(csvPath, filepath.Ext(csvPath)) + ".fleet.db"
}

func (e *env) onboard(o fleetOptions, repair bool) error {
	if *o.csv == "" {
		return usagef("--csv is required")
	}
	if *o.workers < 1 || *o.staleAfter <= 0 || *o.recEach <= 0 {
		return usagef("--workers, --stale-after and --reconcile-every must be positive")
	}
	if r := *o.rate; math.IsNaN(r) || r < minRate || r > maxRate {
		return usagef("--rate: want a number of requests per second from %g to %g", minRate, maxRate)
	}
	key := e.getenv(flipkyc.EnvSecretKey)
	if _, err := e.client(); err != nil { // checks the key and base URLs
		return err
	}
	var token string
	if *o.listen != "" {
		if token = e.getenv(envCallbackToken); token == "" {
			return usagef("--listen: set %s to the token Flip's callbacks carry", envCallbackToken)
		}
		e.secrets.add(token)
	}
	dsn := *o.db
	if dsn == "" {
		dsn = defaultDB(*o.csv)
	}
	if err := e.useDSN(dsn); err != nil {
		return err
	}
	if repair && !fleet.IsPostgres(dsn) {
		// Opening a missing file would start an empty run, in which no
		// agent is found.
		if _, err := os.Stat(dsn); err != nil {
			return inputErrorf("no run at %s (give the run's --db): %v", showDSN(dsn), withoutPath(err))
		}
	}
	images := *o.images
	if images == "" {
		images = filepath.Dir(*o.csv)
	}
	file, err := os.Open(*o.csv)
	if err != nil {
		return inputErrorf("cannot read --csv: %v", err)
	}
	var rows []fleet.Row
	var repairs []fleet.Repair
	var bad []fleet.RowError
	if repair {
		repairs, bad, err = fleet.ReadRepairCSV(file, images)
	} else {
		rows, bad, err = fleet.ReadCSV(file, images)
	}
	file.Close()
	if err != nil {
		return inputErrorf("%s: %v", *o.csv, err)
	}
	e.printBadRows(bad)
	d, err := e.openRun(dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	agentsURL, kycURL := e.baseURLs()
	cfg := fleet.Config{
		DB: d, SecretKey: key, Rate: *o.rate, Workers: *o.workers,
		StaleAfter: *o.staleAfter, ReconcileEvery: *o.recEach,
		ClientOptions: []flipkyc.Option{flipkyc.WithBaseURLs(agentsURL, kycURL), flipkyc.WithUserAgent("flipkyc-cli")},
	}
	if *o.listen != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(e.stderr, nil))
	}
	f, err := fleet.New(cfg)
	if err != nil {
		return err
	}
	if *o.listen != "" {
		stop, err := e.receiveCallbacks(f, *o.listen, token, cfg.Logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	if repair {
		refused, err := f.Repair(e.ctx, repairs)
		if err != nil {
			return err
		}
		e.printBadRows(refused)
		bad = append(bad, refused...)
		fmt.Fprintf(e.stderr, "flipkyc repair: %d corrections queued\n", len(repairs)-len(refused))
	} else {
		added, err := f.Import(e.ctx, rows)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "flipkyc %s: %d rows, %d new, %d resumed, %d bad; state in %s\n", e.cmd.path, len(rows), added, len(rows)-added, countLines(bad), showDSN(dsn))
	}
	p := newProgress(e.stderr)
	if err := f.Run(e.ctx, p.update); err != nil {
		p.done()
		return err
	}
	p.done()
	sum, err := d.Summarize(e.ctx)
	if err != nil {
		return err
	}
	e.printSummary(sum)
	if len(bad) > 0 || len(sum.Attention) > 0 {
		return silentFailure{}
	}
	return nil
}

// receiveCallbacks serves Flip's callbacks on addr into the run, as
// 'listen --db' does, until stop is called.
func (e *env) receiveCallbacks(f *fleet.Fleet, addr, token string, logger *slog.Logger) (stop func(), err error) {
	h, err := f.CallbackHandler(token, flipkyc.WithCallbackLogger(logger))
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen: %v", err)
	}
	srv := callbackServer(h, logger)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(l)
	}()
	fmt.Fprintf(e.stderr, "flipkyc %s: receiving callbacks at http://%s/ (any path)\n", e.cmd.path, l.Addr())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-served
	}, nil
}

// openRun opens a run's database and tells the user on stderr what Open
// had to change (a database other users could read).
func (e *env) openRun(dsn string) (*fleet.DB, error) {
	d, err := fleet.Open(e.ctx, dsn)
	if err != nil {
		return nil, err
	}
	for _, n := range d.Notices() {
		fmt.Fprintf(e.stderr, "flipkyc %s: %s\n", e.cmd.path, n)
	}
	return d, nil
}

// silentFailure ends a command with exit status 1 after it printed why.
type silentFailure struct{}

func (silentFailure) Error() string { return "" }

func countLines(bad []fleet.RowError) int {
	lines := map[int]bool{}
	for _, b := range bad {
		lines[b.Line] = true
	}
	return len(lines)
}

// printBadRows prints the rows refused, by line, field and rule; a rule may
// quote a file name from the CSV, so it is masked as stored reasons are.
func (e *env) printBadRows(bad []fleet.RowError) {
	for _, b := range bad {
		b.Rule = maskText(b.Rule)
		if e.json {
			writeJSON(e.stderr, map[string]any{"line": b.Line, "field": b.Field, "rule": b.Rule})
			continue
		}
		fmt.Fprintf(e.stderr, "line %d: %s: %s\n", b.Line, b.Field, printable(b.Rule))
	}
}

// printSummary prints a run's summary; the reasons stored for agents that
// need attention may quote file paths and replies, and are masked.
func (e *env) printSummary(s fleet.Summary) {
	for i := range s.Attention {
		s.Attention[i].Attention = maskText(s.Attention[i].Attention)
	}
	if e.json {
		out := summaryJSON{Summary: s, Attention: make([]attentionJSON, len(s.Attention))}
		for i, r := range s.Attention {
			out.Attention[i] = attentionJSON{Record: r}
		}
		writeJSON(e.stdout, out)
		return
	}
	t := table(e.stdout)
	fmt.Fprintf(t, "STATE\tAGENTS\n")
	for _, st := range fleet.States {
		if n := s.Counts[st]; n > 0 {
			fmt.Fprintf(t, "%s\t%d\n", st, n)
		}
	}
	fmt.Fprintf(t, "total\t%d\n", s.Total)
	_ = t.Flush()
	if len(s.Rejections) > 0 {
		fmt.Fprintln(e.stdout, "\nRejections (fix with 'flipkyc repair'):")
		t = table(e.stdout)
		fmt.Fprintf(t, "CODE\tAGENTS\tFIX\tREASON\n")
		for _, r := range s.Rejections {
			code := r.Code.String()
			if r.State == fleet.StateUploadFailed {
				code = "check " + firstNonEmpty(code, "-")
			}
			fmt.Fprintf(t, "%s\t%d\t%s\t%s\n", code, r.Agents, fixNames(r.Fix), printable(firstNonEmpty(r.Message, "-")))
		}
		_ = t.Flush()
	}
	if len(s.Attention) > 0 {
		fmt.Fprintln(e.stdout, "\nNeed attention:")
		t = table(e.stdout)
		fmt.Fprintf(t, "LINE\tAGENT\tWHY\n")
		for _, r := range s.Attention {
			id := "-"
			if r.AgentID != 0 {
				id = strconv.FormatInt(r.AgentID, 10)
			}
			fmt.Fprintf(t, "%d\t%s\t%s\n", r.Line, id, printable(r.Attention))
		}
		_ = t.Flush()
	}
}

// summaryJSON is a Summary as status prints it: agents needing attention
// are named by line and agent id, as in the table. Their identity numbers
// are personal data and go only where the user asks for them (--export).
type summaryJSON struct {
	fleet.Summary
	Attention []attentionJSON `json:"attention"`
}

// attentionJSON is a Record without its identity number: the field shadows
// the Record's and is always empty, so omitted.
type attentionJSON struct {
	fleet.Record
	IdentityNumber string `json:"identity_number,omitempty"`
}

func fixNames(fixes []flipkyc.Fix) string {
	s := make([]string, len(fixes))
	for i, f := range fixes {
		s[i] = string(f)
	}
	return strings.Join(s, " or ")
}
