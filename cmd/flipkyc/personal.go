package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/flipkyc/flipkyc/fleet"
)

// runDSN is the database of a run named by --db, or beside --csv; a SQLite
// file that does not exist is an error, not a new run.
func (e *env) runDSN(db, csvPath string) (string, error) {
	dsn := db
	if dsn == "" {
		if csvPath == "" {
			return "", usagef("give --db or --csv")
		}
		dsn = defaultDB(csvPath)
	}
	if err := e.useDSN(dsn); err != nil {
		return "", err
	}
	if !fleet.IsPostgres(dsn) {
		if _, err := os.Stat(dsn); err != nil {
			return "", inputErrorf("no run at %s: %v", showDSN(dsn), withoutPath(err))
		}
	}
	return dsn, nil
}

var forgetCommand = &command{
	path:    "forget",
	summary: "erase the personal data of agents of a run, on their request",
	help: `Erases what a run holds of an agent's personal data (the CSV row: name,
identity number, birth date and place, gender, occupation, address, phone,
e-mail, photo paths; and a pending correction) and records the erasure: the
line, agent id, state, what kinds of data, why and when, and no value. What
stays is what the run needs afterwards: the agent's line, state, KYC status,
rejection code, Request-IDs and times; status and exports go on showing it.
An agent still being onboarded is parked: the run cannot go on without its
data. Flip keeps its own copy: ask Flip to erase that. The agent's phone
number, which Flip keeps registered, is then no longer found by the run's
checks: a new agent with it is refused by Flip (2002) instead.

Name the agents by --line (the onboarding CSV's line), --agent-id (Flip's
id), or by identity number with --identity-numbers FILE, one number a line,
"-" for standard input. Numbers are never taken as arguments: the arguments
of a running process can be read by every user of the machine.
Agents whose personal data stayed past --retain after a final state are
erased by onboard and repair on their own.`,
	examples: []string{
		"flipkyc forget --db examples/fleet/agents.fleet.db --line 5",
		"echo 3201012345678901 | flipkyc forget --db agents.fleet.db --identity-numbers -",
	},
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		csvPath := fs.String("csv", "", "the run's CSV (its database is the file beside it)")
		db := fs.String("db", "", "the run's database: a SQLite file or postgres://…")
		keyFile := keyFileFlag(fs)
		numbers := fs.String("identity-numbers", "", `file of identity numbers to forget, one a line ("-": standard input)`)
		line := fs.Int("line", 0, "forget the agent of this CSV line")
		agentID := fs.Int64("agent-id", 0, "forget the agent with this Flip agent id")
		return func(args []string) error {
			if err := needArgs(args); err != nil {
				return err
			}
			given := 0
			for _, set := range []bool{*numbers != "", *line > 0, *agentID > 0} {
				if set {
					given++
				}
			}
			if given != 1 {
				return usagef("give one of --identity-numbers, --line or --agent-id")
			}
			dsn, err := e.runDSN(*db, *csvPath)
			if err != nil {
				return err
			}
			var sels []fleet.Forget
			switch {
			case *line > 0:
				sels = append(sels, fleet.Forget{Line: *line})
			case *agentID > 0:
				sels = append(sels, fleet.Forget{AgentID: *agentID})
			default:
				ids, err := e.readIdentityNumbers(*numbers)
				if err != nil {
					return err
				}
				for _, id := range ids {
					sels = append(sels, fleet.Forget{IdentityNumber: id})
				}
			}
			use := keyOptional
			if *numbers != "" {
				use = keyRequired
			}
			d, err := e.openRun(dsn, *keyFile, use)
			if err != nil {
				return err
			}
			defer d.Close()
			failed := false
			var done []fleet.Erasure
			for i, sel := range sels {
				er, err := d.Forget(e.ctx, sel)
				if errors.Is(err, fleet.ErrNoSuchAgent) {
					failed = true
					fmt.Fprintf(e.stderr, "%s: no agent of this run\n", forgetTarget(sel, i))
					continue
				}
				if err != nil {
					return err
				}
				done = append(done, er)
				if !e.json {
					fmt.Fprintln(e.stdout, erasureLine(er))
				}
			}
			if e.json {
				writeJSON(e.stdout, done)
			}
			if failed {
				return silentFailure{}
			}
			return nil
		}
	},
}

// readIdentityNumbers reads one identity number a line from path, or
// standard input for "-".
func (e *env) readIdentityNumbers(path string) ([]string, error) {
	var r io.Reader = e.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, inputErrorf("cannot read --identity-numbers: %v", err)
		}
		defer f.Close()
		r = f
	}
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if v := strings.TrimSpace(sc.Text()); v != "" {
			out = append(out, v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, inputErrorf("reading --identity-numbers: %v", err)
	}
	if len(out) == 0 {
		return nil, inputErrorf("--identity-numbers: no identity number read")
	}
	return out, nil
}

// forgetTarget names what a Forget asked for, without an identity number.
func forgetTarget(sel fleet.Forget, i int) string {
	switch {
	case sel.Line > 0:
		return fmt.Sprintf("line %d", sel.Line)
	case sel.AgentID > 0:
		return fmt.Sprintf("agent %d", sel.AgentID)
	}
	return fmt.Sprintf("identity number %d of the input", i+1)
}

func erasureLine(er fleet.Erasure) string {
	who := fmt.Sprintf("line %d", er.Line)
	if er.AgentID != 0 {
		who += fmt.Sprintf(" (agent %d)", er.AgentID)
	}
	if er.Already {
		return fmt.Sprintf("%s: already erased on %s (%s)", who, er.At.UTC().Format(time.RFC3339), er.Reason)
	}
	what := strings.Join(er.Fields, ", ")
	if what == "" {
		what = "nothing was held"
	}
	return fmt.Sprintf("%s: erased %s (%s, state %s)", who, what, er.Reason, er.State)
}

var rekeyCommand = &command{
	path:    "rekey",
	summary: "re-encrypt a run's personal data under a new data key",
	help: `Re-encrypts every agent's personal data of the run under the key in
--new-key-file (created owner-only when it does not exist) and renames the
agents by the new key's hash, in one transaction. Afterwards the run opens
with the new key only: give --key-file NEW-KEY-FILE (or set
FLIPKYC_DATA_KEY to it) from then on, and destroy the old key and its
copies. No process may work the run meanwhile.`,
	examples: []string{
		"flipkyc rekey --db agents.fleet.db --new-key-file agents.fleet.db.key2",
	},
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		csvPath := fs.String("csv", "", "the run's CSV (its database is the file beside it)")
		db := fs.String("db", "", "the run's database: a SQLite file or postgres://…")
		keyFile := keyFileFlag(fs)
		newKeyFile := fs.String("new-key-file", "", "the new data key file, created owner-only when missing (required)")
		return func(args []string) error {
			if err := needArgs(args); err != nil {
				return err
			}
			if *newKeyFile == "" {
				return usagef("--new-key-file is required")
			}
			dsn, err := e.runDSN(*db, *csvPath)
			if err != nil {
				return err
			}
			d, err := e.openRun(dsn, *keyFile, keyRequired)
			if err != nil {
				return err
			}
			defer d.Close()
			next, created, err := e.dataKey(*newKeyFile, dsn, keyCreate)
			if err != nil {
				return err
			}
			if err := d.Rekey(e.ctx, next); err != nil {
				if created != "" {
					os.Remove(created)
				}
				return err
			}
			if created != "" {
				e.tellKeyCreated(created)
			}
			fmt.Fprintf(e.stderr, "flipkyc rekey: the run's personal data is now encrypted with the key in %s: give --key-file %s from now on, and destroy the old key\n", *newKeyFile, *newKeyFile)
			return nil
		}
	},
}

// printErasures prints the erasures the run recorded, oldest first.
func (e *env) printErasures(d *fleet.DB) error {
	erasures, err := d.Erasures(e.ctx)
	if err != nil {
		return err
	}
	if e.json {
		if erasures == nil {
			erasures = []fleet.Erasure{}
		}
		writeJSON(e.stdout, erasures)
		return nil
	}
	if len(erasures) == 0 {
		fmt.Fprintln(e.stdout, "no erasure recorded")
		return nil
	}
	t := table(e.stdout)
	fmt.Fprintf(t, "LINE\tAGENT\tSTATE\tREASON\tERASED\tFIELDS\n")
	for _, er := range erasures {
		agent := "-"
		if er.AgentID != 0 {
			agent = fmt.Sprint(er.AgentID)
		}
		fmt.Fprintf(t, "%d\t%s\t%s\t%s\t%s\t%s\n", er.Line, agent, er.State, er.Reason, er.At.UTC().Format(time.RFC3339), strings.Join(er.Fields, ", "))
	}
	return t.Flush()
}

// printInventory prints what personal data the run holds, where and
// since when, without any value.
func (e *env) printInventory(d *fleet.DB, dsn string) error {
	inv, err := d.Inventory(e.ctx)
	if err != nil {
		return err
	}
	if e.json {
		writeJSON(e.stdout, struct {
			Database string `json:"database"`
			fleet.Inventory
		}{showDSN(dsn), inv})
		return nil
	}
	day := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
	w := e.stdout
	fmt.Fprintf(w, "Personal data held by the run in %s (encrypted; no value shown)\n", showDSN(dsn))
	fmt.Fprintf(w, "agents: %d, holding personal data: %d, erased: %d", inv.Agents, inv.Holding, inv.Erased)
	if !inv.LastErasure.IsZero() {
		fmt.Fprintf(w, " (last erasure %s)", day(inv.LastErasure))
	}
	fmt.Fprintln(w)
	t := table(w)
	fmt.Fprintf(t, "FIELD\tAGENTS\tSINCE\n")
	for _, f := range inv.Fields {
		since := "-"
		if !f.Since.IsZero() {
			since = day(f.Since)
		}
		fmt.Fprintf(t, "%s\t%d\t%s\n", f.Field, f.Agents, since)
	}
	_ = t.Flush()
	fmt.Fprintf(w, "pending corrections holding personal data: %d\n", inv.Corrections)
	fmt.Fprintf(w, "callbacks stored: %d (agent id, status, code, time and a hash of the raw data; no personal data)\n", inv.Callbacks)
	switch {
	case !inv.ImageDirsKnown:
		fmt.Fprintln(w, "photo directories referenced: unknown without the data key (--key-file)")
	case len(inv.ImageDirs) == 0:
		fmt.Fprintln(w, "photo directories referenced: none")
	default:
		fmt.Fprintln(w, "photo directories referenced (the run reads the photos there; it keeps no copy):")
		for _, dir := range inv.ImageDirs {
			fmt.Fprintf(w, "  %s\n", dir)
		}
	}
	if len(inv.Exports) == 0 {
		fmt.Fprintln(w, "export files written: none")
		return nil
	}
	fmt.Fprintln(w, "export files written (each holds what it held when written, until deleted):")
	for _, x := range inv.Exports {
		ids := "identity numbers masked"
		if x.Revealed {
			ids = "identity numbers in clear"
		}
		fmt.Fprintf(w, "  %s: %s, %d agents, %s\n", x.Path, day(x.WrittenAt), x.Agents, ids)
	}
	return nil
}
