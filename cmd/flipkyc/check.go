package main

import (
	"cmp"
	"context"
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
	var rows []fleet.Row
	var bad []fleet.RowError
	err = readFleetCSV(o, func(file io.Reader, images string) (err error) {
		rows, bad, err = fleet.ReadCSV(file, images)
		return err
	})
	if err != nil {
		return err
	}
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
	rows, bad, err = resolveLocations(e.ctx, fleet.NewLocations(d, client), rows, bad)
	if err != nil {
		return err
	}
	against := fmt.Sprintf("no run at %s (none created): not checked against a run", showDSN(dsn))
	total := len(rows) + countLines(bad)
	if d != nil {
		inRun, err := d.InRun(e.ctx, rows)
		if err != nil {
			return err
		}
		bad = sortedByLine(append(bad, inRun...))
		against = "checked against the run in " + showDSN(dsn)
	}
	e.printBadRows(bad)
	nBad := countLines(bad)
	fmt.Fprintf(e.stderr, "flipkyc onboard --check: %s: %d good, %d bad; %s; nothing sent to Flip but location look-ups\n",
		plural(total, "row", "rows"), total-nBad, nBad, against)
	if len(bad) > 0 {
		return silentFailure{}
	}
	return nil
}

// resolveLocations resolves the rows' locations (fleet.Locations.Resolve)
// and adds the rows it refuses to bad, in line order: onboard and
// onboard --check resolve the same way.
func resolveLocations(ctx context.Context, l *fleet.Locations, rows []fleet.Row, bad []fleet.RowError) ([]fleet.Row, []fleet.RowError, error) {
	good, refused, err := l.Resolve(ctx, rows)
	if err != nil {
		return nil, nil, err
	}
	return good, sortedByLine(append(bad, refused...)), nil
}

// sortedByLine sorts bad rows by line, keeping each line's in order.
func sortedByLine(bad []fleet.RowError) []fleet.RowError {
	slices.SortStableFunc(bad, func(a, b fleet.RowError) int { return cmp.Compare(a.Line, b.Line) })
	return bad
}
