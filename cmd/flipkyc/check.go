package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/flipkyc/flipkyc/fleet"
)

// check is 'onboard --check': it reads the CSV as onboard does, resolves
// and checks its locations (the only requests to Flip), and, when --db
// holds a run, finds the rows whose agents the run already has. Every
// problem is printed by line, field and rule; exit 1 when there is one. A
// run that does not exist is not created.
func (e *env) check(o fleetOptions) error {
	e.checking = true
	if *o.csv == "" {
		return usagef("--csv is required")
	}
	if *o.listen != "" {
		return usagef("--check sends nothing and receives nothing: --listen is for onboard")
	}
	// Without Flip's key (or with one the SDK refuses) no list can be
	// read: the problems found without Flip are printed all the same.
	client, noClient := e.client()
	dsn := *o.db
	if dsn == "" {
		dsn = defaultDB(*o.csv)
	}
	if err := e.useDSN(dsn); err != nil {
		return err
	}
	rows, err := openFleetCSV(o)
	if err != nil {
		return err
	}
	defer rows.Close()
	exists, err := fleet.RunExists(e.ctx, dsn)
	if errors.Is(err, fleet.ErrNotARun) {
		return inputErrorf("%s is not a run's database: give a run's --db, or none to check against no run", showDSN(dsn))
	}
	if err != nil {
		return fmt.Errorf("cannot tell whether %s holds a run: %v", showDSN(dsn), withoutPath(err))
	}
	var d *fleet.DB
	if exists {
		if d, err = e.openRun(dsn, *o.keyFile, keyRequired); err != nil {
			return err
		}
		defer d.Close()
	}
	against := fmt.Sprintf("no run at %s (none created): not checked against a run", showDSN(dsn))
	// Rows whose agents the run has are not problems: onboard resumes
	// those agents. They are listed, as notes. A new agent's phone number
	// that an agent of the run has is a problem.
	inRun := func(_, _ []fleet.Row) (refused, noted []fleet.RowError, err error) { return nil, nil, nil }
	if d != nil {
		inRun = func(good, bad []fleet.Row) (refused, noted []fleet.RowError, err error) {
			if refused, noted, err = d.InRun(e.ctx, good); err != nil {
				return nil, nil, err
			}
			more, err := phonesOfTheRun(e.ctx, d, bad)
			return append(refused, more...), noted, err
		}
		against = "checked against the run in " + showDSN(dsn)
	}
	// The findings are the check's output: on stdout. A look-up that
	// fails does not hide the problems found without Flip.
	lookUpErr := noClient
	total, nBad, nInRun, err := e.streamRows(e.stdout, rows, fleet.NewLocations(d, client), inRun, &lookUpErr)
	if err != nil {
		return err
	}
	switch {
	case noClient != nil:
		against += "; locations NOT checked: Flip's lists cannot be read"
	case lookUpErr != nil:
		against += "; locations NOT all checked: a look-up failed"
	}
	if e.json {
		writeJSON(e.stdout, map[string]any{"rows": total, "new": total - nBad - nInRun, "in_run": nInRun, "bad": nBad,
			"checked_against_run": d != nil, "locations_checked": lookUpErr == nil})
	} else {
		fmt.Fprintf(e.stdout, "flipkyc onboard --check: %s: %d new, %d in the run (onboard resumes them), %d bad; %s; nothing sent to Flip but location look-ups\n",
			plural(total, "row", "rows"), total-nBad-nInRun, nInRun, nBad, against)
	}
	switch {
	case noClient != nil:
		return fmt.Errorf("the check is incomplete: no location was checked, for Flip's lists cannot be read: %w", noClient)
	case lookUpErr != nil:
		return fmt.Errorf("the check is incomplete: a look-up of locations failed, and the locations of the rows from there on were not checked: %w", lookUpErr)
	case nBad > 0:
		return silentFailure{}
	}
	return nil
}

// rowBatch is how many CSV rows onboard and onboard --check read, resolve
// and store or check at a time: what they hold does not grow with the CSV.
const rowBatch = 200

// phonesOfTheRun returns the problems of bad rows (bad for another reason)
// whose phone numbers the run has: all of a row's problems are printed at
// once.
func phonesOfTheRun(ctx context.Context, d *fleet.DB, bad []fleet.Row) ([]fleet.RowError, error) {
	refused, _, err := d.InRun(ctx, bad)
	return slices.DeleteFunc(refused, func(e fleet.RowError) bool { return e.Field != "phone_number" }), err
}

// streamRows reads the CSV a batch at a time, resolves the batch's
// locations with l and gives its good rows to use, which may refuse more
// of them or note them; the bad rows are printed on w by line, field and
// rule as they are found, their locations checked too (every problem of a
// row at once), with the rows noted in line order, after the header's
// notes (the columns it does not read). It returns how many
// rows the CSV has, how many are bad and how many were noted (and not
// bad). A line that cannot be parsed as CSV is a bad row; a read that
// fails (a quoted field left open to the end) ends the reading with an
// input error, after the rows before it were used and printed. onboard and
// onboard --check read the CSV the same way. With lookUpErr, a failed
// look-up of Flip's lists is kept there and the reading goes on without
// checking locations (--check); without it, it is the error.
func (e *env) streamRows(w io.Writer, c *fleetCSV, l *fleet.Locations, use func(good, bad []fleet.Row) (refused, noted []fleet.RowError, err error), lookUpErr *error) (rows, bad, noted int, err error) {
	e.printRows(w, nil, c.HeaderNotes()) // columns it does not read
	for {
		good, refused, readErr := c.Next(rowBatch)
		if errors.Is(readErr, io.EOF) {
			return c.Rows(), bad, noted, nil
		}
		var unresolved, badPlaces []fleet.RowError
		// The bad rows, whose other problems (with the run) are looked for
		// too: those bad for other columns than their locations', and
		// those whose locations cannot be resolved.
		badRows := slices.Clone(c.BadRowPlaces())
		if lookUpErr == nil || *lookUpErr == nil {
			resolved, notFound, err := l.Resolve(e.ctx, good)
			if err == nil {
				for _, r := range good {
					if !slices.ContainsFunc(resolved, func(g fleet.Row) bool { return g.Line == r.Line }) {
						badRows = append(badRows, r)
					}
				}
				good, unresolved = resolved, notFound
				_, badPlaces, err = l.Resolve(e.ctx, c.BadRowPlaces())
			}
			if err != nil {
				if lookUpErr == nil || e.ctx.Err() != nil {
					return 0, 0, 0, err
				}
				*lookUpErr, badPlaces = err, nil
			}
		}
		more, notes, err := use(good, badRows)
		if err != nil {
			return 0, 0, 0, err
		}
		refused = append(append(append(refused, badPlaces...), unresolved...), more...)
		e.printRows(w, refused, notes) // in line order
		bad += countLines(refused)
		noted += countLines(notes)
		if readErr != nil {
			// The rows read before it were used and printed.
			return 0, 0, 0, inputErrorf("%s: %v", c.name, readErr)
		}
	}
}
