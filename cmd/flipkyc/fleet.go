package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
)

const fleetColumnsHelp = `The CSV has a header line naming its columns, in any order:
  name, identity_type (ktp or passport), identity_number, birth_date
  (DD-MM-YYYY), birth_place, gender (male or female), occupation,
  province_id, city_id, district_id (ids from 'flipkyc locations'),
  country_id (optional: Indonesia by default), address, phone_number,
  email (optional), identity_image and selfie_image (PNG or JPEG files in
  --images, by default the CSV's directory, named relative to it). The
  identity number is the row's key: one agent per number; a number or a
  phone number given twice makes the later row bad, and so does a new
  agent's phone number that an agent of the run already has (Flip
  registers a number once). An agent whose personal data was erased
  (forget, --retain) has no number in the run any more, though Flip still
  has it registered: a create with it is refused by Flip (2002).

Locations may be given by name instead of id, in the columns province,
city, district (and country), as written on the identity card ("Jawa
Barat", "Kota Depok", "Sukmajaya"; "Provinsi", "Kab." and "Kecamatan" may
be written or left out; case and spacing do not matter), one or the other
for each. A Kota and a Kabupaten of one name are different places: "Kota
Bandung" never fits Kabupaten Bandung; "Bandung" alone fits either when
only one is listed. Names are looked up in Flip's lists, once per parent,
and kept in the run; every id, given or looked up, must be in its parent's
list. A name that fits no place, or an id not in the list, makes the list
be asked of Flip again (once per list), in case Flip added the place; then
such a name, or one that fits several places, makes the row bad, with the
closest names Flip lists.

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
--check only checks the CSV: every row, image and location. It prints
each problem the same way, on stdout (with --json, one object per problem
and a last one with the counts), and notes ("note:" before the line) the
rows whose identity number the run (--db, or the file beside the CSV)
already has, which onboard resumes rather than creates, and the columns it
does not read, by position: they are not problems. A header that holds a
value (a long number, a date, an e-mail address: a row joined to it, or
no header line) is refused without printing it. It exits 1 when there
is a problem, 0 when the CSV is clean. It sends Flip nothing but location
look-ups, and does not create a run that does not exist (it then says it
checked against none); a run made by an earlier flipkyc is upgraded, as
onboard would. When Flip's lists cannot be read (no FLIP_SECRET_KEY, a
refused key, Flip out of reach), the other problems are printed all the
same, and it fails saying the locations were not checked.

Running the same command again resumes the run: nothing that took effect is
sent again. A create whose outcome is unknown (or a 2002 duplicate) is never
re-sent: the agent is parked as needing attention with its Request-ID.
A row whose agent the run has already is not imported again. If its data or
image files changed and the agent is parked at its uploads (way out "repair"
in 'flipkyc status'), the changes are taken as its correction, as a repair
row's would be: changed data is sent first, then the uploads not yet done,
with the row's files. If Flip refused the agent's create for its data (way
out "repair"), the changed row becomes the agent's, and it is created again
under a new Request-ID. Any other changed row is not used, and is reported as
"unchanged: in the run" with its state and what takes the agent on instead
(a repair CSV for a rejected agent); its agent is left as it is.

Callbacks advance the run when it receives them itself (--listen ADDR, with
the token from ` + envCallbackToken + `, while the command runs) or when
'flipkyc listen --db' (the same --db) does; without them, or when one is lost,
agents are read from Flip once they have waited --stale-after. A callback for
an agent the run does not have is stored, answered 200 and reported on stderr
by agent id: it belongs to another run, which reads that agent from Flip. Requests to Flip are limited to --rate per second
in all (on Postgres, across machines).

Personal data (each agent's row) is stored encrypted with the run's data
key, which is never stored in --db: --key-file, else FLIPKYC_DATA_KEY (32
bytes in base64), else a key file beside a SQLite run (the database's name
with .key), created owner-only on first use. Losing the key loses the run's
personal data. Agents are named in the database by a keyed hash of their
identity number, and their phone numbers are kept as one too (to find a
number the run has). An agent's personal data is erased --retain after it
reached a final state (see 'flipkyc forget' to erase it sooner).

Progress goes to stderr: on a terminal one line redrawn in place, fitted to
its width (agents final, requests per second, the ETA of the run's own
requests, the agents waiting for Flip's decisions, the count of each phase;
a bar in front only when all of it fits); otherwise a line every 5 s with the
count of each state.
Exit status 1 when a row was bad or an agent needs attention.`,
	examples: []string{
		"flipkyc onboard --csv examples/fleet/agents.csv",
		"flipkyc onboard --check --csv agents.csv",
		"flipkyc onboard --csv agents.csv --listen 127.0.0.1:8080",
		"flipkyc onboard --csv agents.csv --images photos/ --db postgres://fleet@db/fleet --workers 20 --rate 10",
	},
	flip: true,
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		o := fleetFlags(fs)
		check := fs.Bool("check", false, "check the CSV and send nothing but location look-ups: every row, image and location, and duplicates within the CSV and against the run")
		return func(args []string) error {
			if err := needArgs(args); err != nil {
				return err
			}
			if *check {
				return e.check(o)
			}
			return e.onboard(o, modeOnboard)
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
For an agent parked after its create at its uploads (an image that vanished,
could not be read or that Flip refused, or corrected data Flip refused: way
out "repair" in 'flipkyc status'), a row gives identity_number and a new
identity_image and/or selfie_image (inside --images, checked as onboard
checks them) and/or the data columns to correct: the corrected data is sent
first (an update of the agent), then the uploads not yet done, with the new
files; an upload Flip has is never sent again.
For an agent whose create Flip refused for its data (way out "repair"; the
reason names the field and rule), a row gives identity_number and the
corrected data columns: Flip created nothing, and the agent is created
again under a new Request-ID. For a rejected agent whose correction could
not be read or was refused (way out "repair"), a new row replaces it.
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
			return e.onboard(o, modeRepair)
		}
	},
}

var resumeCommand = &command{
	path:    "resume",
	summary: "retry the steps of parked agents whose cause was fixed, then work the run",
	help: `Puts back the agents of a run (--db) parked by a step that can be tried again:
a step that failed for good (Flip down for a long time), a submission Flip
refused, a create Flip turned away (401, 403, 404), which is sent again
under a new Request-ID. Each goes
back to the state it was parked in; callbacks that came while it was parked
are applied; then the run is worked, as onboard does, until every agent is
final or parked. 'flipkyc status' shows each parked agent's way out. Agents
parked at a create that may have reached Flip are not put back: give their
agent id (or, once Flip confirmed it created nothing, not_created) in a
repair CSV; nor are agents whose data, image or correction was refused or
could not be read (a create refused for its data, an upload, a rejected
agent's correction): give the new file or data in a repair CSV. Running
onboard again also resumes.`,
	examples: []string{
		"flipkyc resume --db examples/fleet/agents.fleet.db",
	},
	flip: true,
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		o := fleetFlags(fs)
		return func(args []string) error {
			if err := needArgs(args); err != nil {
				return err
			}
			return e.onboard(o, modeResume)
		}
	},
}

var statusCommand = &command{
	path:    "status",
	summary: "a run's agents per state, rejections with their fix, agents needing attention",
	help: `Reads a run's database (--db, or the file beside --csv) and prints the number
of agents in each state, the rejections by code with the fix each calls for,
and the agents that need attention with why, by CSV line and agent id, and
each one's way out (WAY OUT: resume, repair, repair agent_id or new run),
with what to do for each under the table.
--export FILE writes one line per agent as CSV (line, identity number, agent
id, state, KYC status, rejection code, fix, reason, create Request-ID),
readable by its owner only. Identity numbers are masked (the column is then
named identity_number_masked) unless --reveal, which needs the run's data
key; an erased agent's reads [erased]. Each export is recorded in the run.
FILE must be a regular file or a new one (a link writes the file it names);
the run's database and its files, any other run's database and its files,
directories and devices are refused. It is written through a temporary file
beside it and renamed, so it is replaced whole or not at all. A cell that
starts with =, +, -, @, a tab or a carriage return gets a leading ' so that
a spreadsheet does not run it as a formula, and a cell holding a comma,
semicolon or tab is quoted whole, so that no part of it becomes a cell of
its own.
--inventory says what personal data the run holds, of how many agents, since
when and where (database, photo directories, exports), without any value.
--erasures lists the erasures the run recorded: line, agent id, state, why
(request or retention), when and what kinds of data, without any value.`,
	examples: []string{
		"flipkyc status --csv examples/fleet/agents.csv",
		"flipkyc status --db postgres://fleet@db/fleet --json",
	},
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		csvPath := fs.String("csv", "", "the run's CSV (its database is the file beside it)")
		db := fs.String("db", "", "the run's database: a SQLite file or postgres://…")
		export := fs.String("export", "", "write every agent to this CSV file")
		reveal := fs.Bool("reveal", false, "with --export: write identity numbers in clear (needs the data key); masked otherwise")
		inventory := fs.Bool("inventory", false, "say what personal data the run holds and where, without any value")
		erasures := fs.Bool("erasures", false, "list the erasures the run recorded (forget, retention), without any value")
		keyFile := keyFileFlag(fs)
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
			if *reveal && *export == "" {
				return usagef("--reveal goes with --export")
			}
			if *erasures && (*inventory || *export != "") {
				return usagef("--erasures goes alone (without --inventory or --export)")
			}
			var target string
			if *export != "" {
				var err error
				if target, err = outputTarget("--export", *export, dsn); err != nil {
					return err
				}
			}
			// status only reads: a file that holds no run is left as it is.
			ro, err := fleet.OpenRun(e.ctx, dsn)
			if errors.Is(err, fleet.ErrNotARun) {
				return inputErrorf("%s is not a flipkyc run (no agents table); nothing was changed", showDSN(dsn))
			}
			if err != nil {
				return inputErrorf("no run at %s: %v", showDSN(dsn), withoutPath(err))
			}
			ro.Close()
			use := keyOptional
			if *reveal {
				use = keyRequired
			}
			// A run of an earlier version is read as it is, not upgraded
			// (but one with personal data in clear is converted).
			d, err := e.openRun(dsn, *keyFile, use, fleet.ForReading())
			if err != nil {
				return err
			}
			defer d.Close()
			if *inventory {
				return e.printInventory(d, dsn)
			}
			if *erasures {
				return e.printErasures(d)
			}
			sum, err := d.Summarize(e.ctx)
			if err != nil {
				return err
			}
			if target != "" {
				if err := exportRecords(e.ctx, d, target, *reveal); err != nil {
					return err
				}
			}
			e.printSummary(sum, dsn)
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
	keyFile, retain     *string
	listen              *string
	workers             *int
	rate                *float64
	staleAfter, recEach *time.Duration
	jobTimeout, orphan  *time.Duration
	verbose             *bool
}

func fleetFlags(fs *flag.FlagSet) fleetOptions {
	return fleetOptions{
		csv:        fs.String("csv", "", "the CSV file (required)"),
		images:     fs.String("images", "", "directory of the image files the CSV names, relative to it; no file outside it is read (default: the CSV's directory)"),
		db:         fs.String("db", "", "the run's database: a SQLite file (default: the CSV's name with .fleet.db) or postgres://…"),
		keyFile:    keyFileFlag(fs),
		retain:     fs.String("retain", "30d", "erase an agent's personal data this long after it reached a final state (e.g. 30d, 72h; 0: at once)"),
		workers:    fs.Int("workers", 10, "steps run at once by this process"),
		rate:       fs.Float64("rate", fleet.DefaultRate, "most requests per second to Flip, in all (shared across machines on Postgres), from 0.1 to 1000000"),
		staleAfter: fs.Duration("stale-after", 2*time.Minute, "read an agent from Flip when its callback is this late"),
		recEach:    fs.Duration("reconcile-every", 15*time.Second, "how often to look for late callbacks"),
		listen:     fs.String("listen", "", "receive Flip's callbacks on this address (host:port) into this run while it works; the token from "+envCallbackToken),
		jobTimeout: fs.Duration("job-timeout", 2*time.Minute, "most time one step may take; a stopped process's steps go to others only after it"),
		orphan:     fs.Duration("orphan-after", 15*time.Second, "a process whose heartbeat is this late is stopped (Postgres)"),
		verbose:    fs.Bool("v", false, "log more: River's and the fleet's informational lines (warnings always go to stderr)"),
	}
}

func keyFileFlag(fs *flag.FlagSet) *string {
	return fs.String("key-file", "", "the run's data key file, created owner-only on first use (default: "+fleet.EnvDataKey+", else the SQLite database's name with .key)")
}

// keyUse is what a command does when it finds no data key.
type keyUse int

const (
	keyOptional keyUse = iota // go on without personal data
	keyRequired               // fail
	keyCreate                 // create a key file (a new run)
)

// dataKey finds the run's data key: the --key-file, else FLIPKYC_DATA_KEY,
// else (SQLite) the key file beside the database. created names a key file
// it created, to remove if the run turns out to have another key, or to
// tell of (tellKeyCreated) once the run took it.
func (e *env) dataKey(keyFile, dsn string, use keyUse) (key *fleet.DataKey, created string, err error) {
	byDefault := keyFile == ""
	if byDefault {
		if v := e.getenv(fleet.EnvDataKey); v != "" {
			k, err := fleet.ParseDataKey(v)
			if err != nil {
				return nil, "", inputErrorf("%s: %v", fleet.EnvDataKey, err)
			}
			return k, "", nil
		}
		if fleet.IsPostgres(dsn) {
			if use == keyOptional {
				return nil, "", nil
			}
			return nil, "", inputErrorf("give --key-file or %s: a Postgres run's data key is kept outside the database, and every machine working the run needs the same one", fleet.EnvDataKey)
		}
		keyFile = dsn + ".key"
	} else if err := keyFileNotRunFile(keyFile, dsn); err != nil {
		return nil, "", err
	}
	if use != keyCreate {
		k, err := fleet.ReadKeyFile(keyFile)
		switch {
		case err == nil:
			e.warnKeyFileMode(keyFile)
			return k, "", nil
		case use == keyOptional && byDefault && errors.Is(err, fs.ErrNotExist):
			return nil, "", nil
		}
		return nil, "", inputErrorf("the run's data key: %v", err)
	}
	k, made, err := fleet.OpenOrCreateKeyFile(keyFile)
	if err != nil {
		return nil, "", inputErrorf("the run's data key: %v", err)
	}
	if !made {
		e.warnKeyFileMode(keyFile)
	}
	if made {
		created = keyFile
	}
	return k, created, nil
}

// tellKeyCreated says on stderr that the data key file at path was created
// and what it is for, once the run it was made for opened (or took it).
func (e *env) tellKeyCreated(path string) {
	fmt.Fprintf(e.stderr, "flipkyc: created the data key file %s (owner-only): it encrypts this run's personal data; keep it apart from copies of the database, and do not lose it: without it the run's personal data cannot be read\n", path)
}

// warnKeyFileMode warns on stderr when the key file can be read by users
// other than its owner: whoever has it and a copy of the run reads its
// personal data.
func (e *env) warnKeyFileMode(keyFile string) {
	if st, err := os.Stat(keyFile); err == nil && st.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(e.stderr, "flipkyc %s: warning: the data key file %s can be read by other users (%v): make it readable by its owner only (chmod 600)\n", e.cmd.path, keyFile, st.Mode().Perm())
	}
}

// keyFileNotRunFile refuses a --key-file that is a SQLite run's database
// or one of its files other than the key file beside it, before the key
// file is read or created there.
func keyFileNotRunFile(keyFile, dsn string) error {
	target, err := resolvePath("--key-file", keyFile)
	if err != nil {
		return err
	}
	info, err := os.Stat(target)
	if err != nil {
		info = nil
	}
	return notRunFile("--key-file", keyFile, target, info, dsn, slices.DeleteFunc(slices.Clone(runFileSuffixes), func(s string) bool { return s == ".key" }))
}

// openRun opens a run's database with its data key (see dataKey), and
// tells the user on stderr what Open had to change (a database other users
// could read). opts are added to Open's.
func (e *env) openRun(dsn, keyFile string, use keyUse, opts ...fleet.OpenOption) (*fleet.DB, error) {
	key, created, err := e.dataKey(keyFile, dsn, use)
	if err != nil {
		return nil, err
	}
	if key != nil {
		opts = append(opts, fleet.WithDataKey(key))
	}
	d, err := fleet.Open(e.ctx, dsn, opts...)
	if errors.Is(err, fleet.ErrConversionNeedsKey) && key == nil && use == keyOptional {
		// A run of an earlier flipkyc is converted by whichever command
		// opens it first, which needs a key.
		return e.openRun(dsn, keyFile, keyCreate, opts...)
	}
	if err != nil {
		if created != "" {
			os.Remove(created) // a key made for a run that has another
		}
		if errors.Is(err, fleet.ErrWrongDataKey) || errors.Is(err, fleet.ErrAnotherProgramsDatabase) {
			return nil, inputErrorf("%s", strings.TrimPrefix(err.Error(), "fleet: "))
		}
		return nil, err
	}
	if created != "" {
		e.tellKeyCreated(created)
	}
	for _, n := range d.Notices() {
		fmt.Fprintf(e.stderr, "flipkyc %s: %s\n", e.cmd.path, n)
	}
	return d, nil
}

// parseRetain reads --retain: a Go duration, or whole days ("30d").
// maxRetainDays bounds --retain, a hundred years: a longer time would
// overflow a duration, and no retention means keeping data that long.
const maxRetainDays = 36500

func parseRetain(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if n, err = strconv.Atoi(days); err == nil && n > maxRetainDays {
			return 0, usagef("--retain: at most %d days", maxRetainDays)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d < 0 || d > maxRetainDays*24*time.Hour {
		return 0, usagef("--retain: want a duration such as 30d or 72h, or 0, of at most %d days", maxRetainDays)
	}
	if d == 0 {
		d = time.Millisecond // as soon as the agent is final
	}
	return d, nil
}

// defaultDB is the SQLite file beside a CSV.
func defaultDB(csvPath string) string {
	return strings.TrimSuffix(csvPath, filepath.Ext(csvPath)) + ".fleet.db"
}

// What e.onboard does before it works the run.
const (
	modeOnboard = "onboard" // import the CSV's rows, resume parked agents
	modeRepair  = "repair"  // queue the CSV's corrections
	modeResume  = "resume"  // resume parked agents
)

func (e *env) onboard(o fleetOptions, mode string) error {
	repair := mode == modeRepair
	switch {
	case mode == modeResume && *o.db == "":
		return usagef("--db is required")
	case mode != modeResume && *o.csv == "":
		return usagef("--csv is required")
	}
	if *o.workers < 1 || *o.staleAfter <= 0 || *o.recEach <= 0 || *o.jobTimeout <= 0 || *o.orphan <= 0 {
		return usagef("--workers, --stale-after, --reconcile-every, --job-timeout and --orphan-after must be positive")
	}
	if r := *o.rate; math.IsNaN(r) || r < minRate || r > maxRate {
		return usagef("--rate: want a number of requests per second from %g to %g", minRate, maxRate)
	}
	retain, err := parseRetain(*o.retain)
	if err != nil {
		return err
	}
	key := e.getenv(flipkyc.EnvSecretKey)
	if _, err := e.client(); err != nil { // checks the key and base URLs
		return err
	}
	var token string
	var callbacks net.Listener
	if *o.listen != "" {
		if token = e.getenv(envCallbackToken); token == "" {
			return usagef("--listen: set %s to the token Flip's callbacks carry", envCallbackToken)
		}
		e.secrets.add(token)
		if callbacks, err = listenCallbacks(*o.listen); err != nil {
			return err
		}
		defer callbacks.Close() // served (and closed) once the run is open
	}
	dsn := *o.db
	if dsn == "" {
		dsn = defaultDB(*o.csv)
	}
	if err := e.useDSN(dsn); err != nil {
		return err
	}
	if mode != modeOnboard && !fleet.IsPostgres(dsn) {
		// Opening a missing file would start an empty run, in which no
		// agent is found.
		if _, err := os.Stat(dsn); err != nil {
			return inputErrorf("no run at %s (give the run's --db): %v", showDSN(dsn), withoutPath(err))
		}
	}
	var repairs []fleet.Repair
	var bad []fleet.RowError
	if repair {
		err := readFleetCSV(o, func(file io.Reader, images string) (err error) {
			repairs, bad, err = fleet.ReadRepairCSV(file, images)
			return err
		})
		if err != nil {
			return err
		}
	}
	// The onboarding CSV is read a batch at a time once the run is open;
	// its header is checked before.
	var rows *fleetCSV
	if mode == modeOnboard {
		if rows, err = openFleetCSV(o); err != nil {
			return err
		}
		defer func() {
			if rows != nil {
				rows.Close()
			}
		}()
	}
	if repair {
		e.printBadRows(bad)
	}
	use := keyCreate
	if repair {
		use = keyRequired
	}
	d, err := e.openRun(dsn, *o.keyFile, use)
	if err != nil {
		return err
	}
	defer d.Close()
	// A second process started on the same SQLite run says so before it
	// imports or queues anything.
	release, err := d.HoldRun()
	if err != nil {
		return err
	}
	defer release()
	agentsURL, kycURL := e.baseURLs()
	// The fleet's and River's warnings go to stderr; -v adds their other
	// lines, --listen the callbacks received.
	level := slog.LevelWarn
	switch {
	case *o.verbose:
		level = slog.LevelDebug
	case *o.listen != "":
		level = slog.LevelInfo
	}
	// The log lines come from River's goroutines: every write to stderr
	// from here on takes turns.
	e.stderr = &turnWriter{w: e.stderr}
	cfg := fleet.Config{
		Logger: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level})),
		DB:     d, SecretKey: key, Rate: *o.rate, Workers: *o.workers,
		StaleAfter: *o.staleAfter, ReconcileEvery: *o.recEach, JobTimeout: *o.jobTimeout, OrphanAfter: *o.orphan, Retain: retain,
		ClientOptions: []flipkyc.Option{flipkyc.WithBaseURLs(agentsURL, kycURL), flipkyc.WithUserAgent("flipkyc-cli")},
	}
	f, err := fleet.New(cfg)
	if err != nil {
		return err
	}
	if *o.listen != "" {
		stop, err := e.receiveCallbacks(f, callbacks, token, cfg.Logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	badRows := 0 // the onboarding CSV's
	if repair {
		refused, err := f.Repair(e.ctx, repairs)
		if err != nil {
			return err
		}
		e.printBadRows(refused)
		bad = append(bad, refused...)
		fmt.Fprintf(e.stderr, "flipkyc repair: %s queued\n", plural(len(repairs)-len(refused), "correction", "corrections"))
	} else {
		if mode == modeOnboard {
			added, taken := 0, 0
			total, nBad, _, err := e.streamRows(e.stderr, rows, f.Locations(), func(batch, bad []fleet.Row) (refused, noted []fleet.RowError, err error) {
				n, refused, err := f.Import(e.ctx, batch)
				added += n
				if err != nil {
					return nil, nil, err
				}
				more, err := phonesOfTheRun(e.ctx, d, bad)
				if err != nil {
					return nil, nil, err
				}
				refused = append(refused, more...)
				// Rows of agents already in the run that changed: a
				// correction for an agent parked with the way out repair, otherwise
				// not used (said, but not a bad row).
				t, unused, err := f.TakeChanges(e.ctx, batch)
				taken += t
				return refused, unused, err
			}, nil)
			if err != nil {
				return err
			}
			// The CSV is read: its reader and the digests it kept of every
			// row are not held through the run.
			rows.Close()
			rows = nil
			badRows = nBad
			fmt.Fprintf(e.stderr, "flipkyc %s: %s: %d new, %d resumed, %d bad; state in %s\n", e.cmd.path,
				plural(total, "row", "rows"), added, total-nBad-added, nBad, showDSN(dsn))
			if taken > 0 {
				fmt.Fprintf(e.stderr, "flipkyc %s: %s taken as corrections of parked agents (way out repair)\n", e.cmd.path, plural(taken, "changed row", "changed rows"))
			}
		}
		// Parked agents whose cause may be fixed go back to work.
		back, err := f.Resume(e.ctx)
		if err != nil {
			return err
		}
		if back > 0 || mode == modeResume {
			fmt.Fprintf(e.stderr, "flipkyc %s: %s put back\n", e.cmd.path, plural(back, "parked agent", "parked agents"))
		}
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
	e.printSummary(sum, dsn)
	e.printOutcome(sum, dsn)
	if len(bad) > 0 || badRows > 0 || len(sum.Attention) > 0 {
		return silentFailure{}
	}
	return nil
}

// printOutcome ends a run's output on stderr: how many agents are final,
// how many need attention, and the command that shows them.
func (e *env) printOutcome(s fleet.Summary, dsn string) {
	if e.json {
		return // the summary on stdout has the counts
	}
	final := s.Total - s.Active - len(s.Attention)
	fmt.Fprintf(e.stderr, "flipkyc %s: %d of %d agents final (%d approved, %d rejected, %d failed their upload check); %d need attention\n",
		e.cmd.path, final, s.Total, s.Counts[fleet.StateApproved], s.Counts[fleet.StateRejected], s.Counts[fleet.StateUploadFailed], len(s.Attention))
	if len(s.Attention) > 0 || len(s.Rejections) > 0 {
		fmt.Fprintf(e.stderr, "see them and their way out: flipkyc status --db %s\n", showDSN(dsn))
	}
}

// turnWriter lets one goroutine write at a time. On a terminal, a line
// written while the progress row is drawn (drawRow) takes the row's place,
// and the row is drawn again below it.
type turnWriter struct {
	mu sync.Mutex
	w  io.Writer
	// row is the progress row drawn on the last line ("" when none);
	// cleared says it was cleared for a line not yet ended.
	row     string
	cleared bool
}

func (t *turnWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.row == "" {
		return t.w.Write(p)
	}
	if !t.cleared {
		if _, err := io.WriteString(t.w, "\r\x1b[K"); err != nil {
			return 0, err
		}
		t.cleared = true
	}
	n, err := t.w.Write(p)
	if err == nil && bytes.HasSuffix(p, []byte("\n")) {
		t.cleared = false
		_, err = io.WriteString(t.w, t.row)
	}
	return n, err
}

// drawRow draws row in place of the progress row drawn before.
func (t *turnWriter) drawRow(row string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cleared {
		// A line is under way: the row is drawn once it ends.
		t.row = row
		return
	}
	_, _ = io.WriteString(t.w, "\r\x1b[K"+row)
	t.row = row
}

// endRow leaves the progress row drawn last on its own line.
func (t *turnWriter) endRow() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.row != "" && !t.cleared {
		_, _ = io.WriteString(t.w, "\n")
	}
	t.row, t.cleared = "", false
}

// readFleetCSV opens --csv and reads it with read, in the images
// directory (--images, by default the CSV's).
func readFleetCSV(o fleetOptions, read func(file io.Reader, images string) error) error {
	file, images, err := openCSVFile(o)
	if err != nil {
		return err
	}
	defer file.Close()
	if err := read(file, images); err != nil {
		return inputErrorf("%s: %v", *o.csv, err)
	}
	return nil
}

// openCSVFile opens --csv and names its images directory (--images, by
// default the CSV's).
func openCSVFile(o fleetOptions) (*os.File, string, error) {
	images := *o.images
	if images == "" {
		images = filepath.Dir(*o.csv)
	}
	file, err := os.Open(*o.csv)
	if err != nil {
		return nil, "", inputErrorf("cannot read --csv: %v", err)
	}
	return file, images, nil
}

// fleetCSV is the onboarding CSV of --csv, read a batch of rows at a
// time (see streamRows).
type fleetCSV struct {
	*fleet.CSVReader
	file *os.File
	name string // --csv
}

// openFleetCSV opens --csv and reads its header.
func openFleetCSV(o fleetOptions) (*fleetCSV, error) {
	file, images, err := openCSVFile(o)
	if err != nil {
		return nil, err
	}
	r, err := fleet.NewCSVReader(file, images)
	if err != nil {
		file.Close()
		return nil, inputErrorf("%s: %v", *o.csv, err)
	}
	return &fleetCSV{CSVReader: r, file: file, name: *o.csv}, nil
}

// Close closes the CSV and its images directory.
func (c *fleetCSV) Close() error {
	return errors.Join(c.CSVReader.Close(), c.file.Close())
}

// listenCallbacks takes the address (host:port) Flip's callbacks are to
// reach, before anything else is done: a port in use stops the command
// before it creates a run.
func listenCallbacks(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--listen: cannot listen: %v", err)
	}
	return l, nil
}

// receiveCallbacks serves Flip's callbacks on l (listenCallbacks) into the
// run, as 'listen --db' does, until stop is called.
func (e *env) receiveCallbacks(f *fleet.Fleet, l net.Listener, token string, logger *slog.Logger) (stop func(), err error) {
	h, err := f.CallbackHandler(token, flipkyc.WithCallbackLogger(logger))
	if err != nil {
		return nil, err
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

// silentFailure ends a command with exit status 1 after it printed why.
type silentFailure struct{}

func (silentFailure) Error() string { return "" }

// plural returns n with the word that fits it: "1 row", "2 rows".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func countLines(bad []fleet.RowError) int {
	lines := map[int]bool{}
	for _, b := range bad {
		lines[b.Line] = true
	}
	return len(lines)
}

// printBadRows prints the rows refused, by line, field and rule; a rule may
// quote a file name from the CSV, so it is masked as stored reasons are.
func (e *env) printBadRows(bad []fleet.RowError) { e.printRows(e.stderr, bad, nil) }

// printedRow is a row printRows prints: refused, or only noted.
type printedRow struct {
	fleet.RowError
	note bool
}

// printRows prints on w the rows refused and the rows noted (not refused:
// "note" instead of "rule" in JSON, "note: " before the line otherwise),
// in line order, by line, field and rule; a rule may quote a path or a
// reply, and is masked.
func (e *env) printRows(w io.Writer, bad, noted []fleet.RowError) {
	rows := make([]printedRow, 0, len(bad)+len(noted))
	for _, b := range bad {
		rows = append(rows, printedRow{b, false})
	}
	for _, n := range noted {
		rows = append(rows, printedRow{n, true})
	}
	slices.SortStableFunc(rows, func(a, b printedRow) int { return cmp.Compare(a.Line, b.Line) })
	for _, r := range rows {
		text := maskText(r.Rule)
		if e.json {
			kind := "rule"
			if r.note {
				kind = "note"
			}
			writeJSON(w, map[string]any{"line": r.Line, "field": r.Field, kind: text})
			continue
		}
		note := ""
		if r.note {
			note = "note: " // not a problem: a line that starts "line" is one
		}
		fmt.Fprintf(w, "%sline %d: %s: %s\n", note, r.Line, printable(r.Field), printable(text))
	}
}

// printSummary prints a run's summary; the reasons stored for agents that
// need attention may quote file paths and replies, and are masked.
func (e *env) printSummary(s fleet.Summary, dsn string) {
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
		fmt.Fprintf(t, "LINE\tAGENT\tWAY OUT\tWHY\n")
		for _, r := range s.Attention {
			id := "-"
			if r.AgentID != 0 {
				id = strconv.FormatInt(r.AgentID, 10)
			}
			fmt.Fprintf(t, "%d\t%s\t%s\t%s\n", r.Line, id, wayOutName(r.WayOut), printable(r.Attention))
		}
		_ = t.Flush()
		seen := map[string]bool{}
		for _, r := range s.Attention {
			if !seen[r.WayOut] && r.WayOut != "" {
				seen[r.WayOut] = true
				fmt.Fprintf(e.stdout, "%s: %s\n", wayOutName(r.WayOut), wayOutCommand(r.WayOut, dsn))
			}
		}
	}
}

// wayOutName names a way out in the table of parked agents.
func wayOutName(w string) string {
	switch w {
	case fleet.WayOutResume:
		return "resume"
	case fleet.WayOutAgentID:
		return "repair agent_id"
	case fleet.WayOutRepair:
		return "repair"
	case fleet.WayOutNewRun:
		return "new run"
	}
	return "-"
}

// wayOutCommand is what a person does to take on agents parked with way
// out w.
func wayOutCommand(w, dsn string) string {
	switch w {
	case fleet.WayOutResume:
		return "fix what WHY names (Flip reachable again), then run: flipkyc resume --db " + showDSN(dsn)
	case fleet.WayOutAgentID:
		return "ask Flip, then run: flipkyc repair --db " + showDSN(dsn) + " --csv FILE (columns identity_number and agent_id, or not_created)"
	case fleet.WayOutRepair:
		return "give a new image or corrected data, then run: flipkyc repair --db " + showDSN(dsn) + " --csv FILE (columns identity_number and identity_image, selfie_image and/or the data columns to correct)"
	case fleet.WayOutNewRun:
		return "the agent's personal data was erased from this run, which cannot take it on: onboard it again in a new run (flipkyc onboard --csv FILE --db NEW)"
	}
	return ""
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
