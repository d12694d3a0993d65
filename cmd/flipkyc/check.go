package main

import (
	"cmp"
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
	if *o.csv == "" {
		return usagef("--csv is required")
	}
	if *o.listen != "" {
		return usagef("--check sends nothing and receives nothing: --listen is for onboard")
	}
	client, err := e.client()
	if err != nil {
		return err
	}
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
	inRun := func([]fleet.Row) ([]fleet.RowError, error) { return nil, nil }
	if d != nil {
		inRun = func(batch []fleet.Row) ([]fleet.RowError, error) { return d.InRun(e.ctx, batch) }
		against = "checked against the run in " + showDSN(dsn)
	}
	total, nBad, err := e.streamRows(rows, fleet.NewLocations(d, client), inRun)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "flipkyc onboard --check: %s: %d good, %d bad; %s; nothing sent to Flip but location look-ups\n",
		plural(total, "row", "rows"), total-nBad, nBad, against)
	if nBad > 0 {
		return silentFailure{}
	}
	return nil
}

// rowBatch is how many CSV rows onboard and onboard --check read, resolve
// and store or check at a time: what they hold does not grow with the CSV.
const rowBatch = 200

// streamRows reads the CSV a batch at a time, resolves the batch's
// locations with l and gives its good rows to use, which may refuse more
// of them; the bad rows are printed by line, field and rule as they are
// found, their locations checked too (every problem of a row at once).
// It returns how many rows the CSV has and how many are bad. A line that
// cannot be parsed as CSV ends the reading with an input error, after the
// rows before it were used and printed as the batches before them.
// onboard and onboard --check read the CSV the same way.
func (e *env) streamRows(c *fleetCSV, l *fleet.Locations, use func([]fleet.Row) ([]fleet.RowError, error)) (rows, bad int, err error) {
	for {
		good, refused, readErr := c.Next(rowBatch)
		if errors.Is(readErr, io.EOF) {
			return c.Rows(), bad, nil
		}
		good, unresolved, err := l.Resolve(e.ctx, good)
		if err != nil {
			return 0, 0, err
		}
		_, badPlaces, err := l.Resolve(e.ctx, c.BadRowPlaces())
		if err != nil {
			return 0, 0, err
		}
		more, err := use(good)
		if err != nil {
			return 0, 0, err
		}
		refused = sortedByLine(append(append(append(refused, badPlaces...), unresolved...), more...))
		e.printBadRows(refused)
		bad += countLines(refused)
		if readErr != nil {
			return 0, 0, inputErrorf("%s: %v", c.name, readErr)
		}
	}
}

// sortedByLine sorts bad rows by line, keeping each line's in order.
func sortedByLine(bad []fleet.RowError) []fleet.RowError {
	slices.SortStableFunc(bad, func(a, b fleet.RowError) int { return cmp.Compare(a.Line, b.Line) })
	return bad
}
