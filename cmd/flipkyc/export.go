package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/internal/redact"
)

// The files the command writes on request (status --export) are written
// only where the user asked, never over the run's own database, and read
// as data, never as formulas, by a spreadsheet.

// runFileSuffixes name the files of a SQLite run, beside its database:
// the database itself, SQLite's write-ahead log, shared memory and rollback
// journal, the run's lock (fleet's lock file) and its data key file (when
// kept beside the database, as by default).
var runFileSuffixes = []string{"", "-wal", "-shm", "-journal", ".lock", ".key"}

// outputTarget checks the path given to an output flag (--export,
// --env-file) and returns the file to write: path with its links resolved
// (a link to a file writes the file it names). It refuses what is not a
// regular file (a directory, a device, a pipe, a link to nothing), any
// SQLite database (a run's, of this run or another) and the names of its
// companion files beside it, and, when dsn names a SQLite run, the run's
// database and its companion files, however named (another path, a link,
// a hard link).
func outputTarget(flag, path, dsn string) (string, error) {
	target, err := resolvePath(flag, path)
	if err != nil {
		return "", err
	}
	info, err := os.Stat(target)
	switch {
	case err == nil && !info.Mode().IsRegular():
		return "", inputErrorf("%s: %s is not a regular file; give the path of a file to write", flag, maskText(path))
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", inputErrorf("%s: %v", flag, withoutPath(err))
	}
	for _, suffix := range runFileSuffixes {
		if base, ok := strings.CutSuffix(target, suffix); ok && fleet.IsSQLiteFile(base) {
			return "", inputErrorf("%s: %s is a database or one of its files; give another file", flag, maskText(path))
		}
	}
	if err := notRunFile(flag, path, target, info, dsn, runFileSuffixes); err != nil {
		return "", err
	}
	return target, nil
}

// notRunFile refuses target (path resolved, info its file's when it
// exists) when dsn names a SQLite run and target is the run's database or
// one of its files of suffixes, however named (another path, a link, a
// hard link).
func notRunFile(flag, path, target string, info fs.FileInfo, dsn string, suffixes []string) error {
	if dsn == "" || fleet.IsPostgres(dsn) {
		return nil
	}
	db, err := filepath.Abs(dsn)
	if err != nil {
		return inputErrorf("%s: %v", flag, err)
	}
	bases := []string{db}
	if real, err := filepath.EvalSymlinks(db); err == nil && real != db {
		bases = append(bases, real)
	}
	for _, base := range bases {
		for _, suffix := range suffixes {
			run := base + suffix
			same := run == target
			if !same && info != nil {
				if runInfo, err := os.Stat(run); err == nil {
					same = os.SameFile(info, runInfo)
				}
			}
			if same {
				return inputErrorf("%s: %s is the run's database or one of its files; give another file", flag, maskText(path))
			}
		}
	}
	return nil
}

// resolvePath returns path absolute and with every link resolved; for a
// file that does not exist yet, its directory's links are resolved. A link
// that names nothing is refused: writing through it would create a file
// the user did not name.
func resolvePath(flag, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", inputErrorf("%s: %v", flag, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err == nil {
		return real, nil
	}
	if _, lerr := os.Lstat(abs); lerr == nil {
		return "", inputErrorf("%s: %s is a link to nothing; give the path of a file to write", flag, maskText(path))
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return "", inputErrorf("%s: cannot write in the directory: %v", flag, withoutPath(err))
	}
	return filepath.Join(dir, filepath.Base(abs)), nil
}

// writeFileAtomically writes a file at target through a temporary file in
// the same directory, created owner-only (0600), renamed over target once
// complete: target is replaced whole or not at all, and ends owner-only
// whatever its mode was.
func writeFileAtomically(target string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), target)
}

// exportRecords writes every agent of the run to target (checked by
// outputTarget) as CSV, its owner's only, with identity numbers masked
// unless reveal.
func exportRecords(ctx context.Context, d *fleet.DB, target string, reveal bool) error {
	recs, err := d.Records(ctx)
	if err != nil {
		return err
	}
	// Identity numbers are masked unless reveal, and the column's name
	// says which; an erased agent has none.
	identityColumn := "identity_number_masked"
	if reveal {
		identityColumn = "identity_number"
	}
	err = writeFileAtomically(target, func(out io.Writer) error {
		w := newSpreadsheetCSV(out)
		_ = w.Write([]string{"line", identityColumn, "agent_id", "state", "kyc_status", "rejection_code", "fix", "reason", "create_request_id"})
		for _, r := range recs {
			id := ""
			if r.AgentID != 0 {
				id = strconv.FormatInt(r.AgentID, 10)
			}
			identity := r.IdentityNumber
			switch {
			case r.Erased:
				identity = "[erased]"
			case !reveal:
				identity = redact.Masked
			}
			_ = w.Write([]string{strconv.Itoa(r.Line), identity, id, r.State, r.KYCStatus, r.RejectionCode.String(), fixNames(r.Fix),
				maskText(firstNonEmpty(r.Attention, r.Rejection), r.IdentityNumber), r.CreateRequestID})
		}
		w.Flush()
		return w.Error()
	})
	if err != nil {
		return inputErrorf("cannot write --export: %v", withoutPath(err))
	}
	// The export is recorded for the run's inventory.
	return d.RecordExport(ctx, target, len(recs), reveal)
}

// spreadsheetCSV is a CSV writer for files people open in a spreadsheet:
// a cell that starts with a character a spreadsheet reads as the start of
// a formula is written with a leading single quote, and a cell holding a
// character a spreadsheet may split cells at (a comma, or the semicolon or
// tab of other locales), a quote or a line break is quoted whole, so that
// no part of it starts a cell of its own, as OWASP's CSV injection guidance
// says. Every cell is treated alike: the command's numeric columns (lines,
// ids, codes) are never negative, so no number is changed. encoding/csv
// reads what it writes.
type spreadsheetCSV struct {
	w   *bufio.Writer
	err error
}

func newSpreadsheetCSV(w io.Writer) *spreadsheetCSV { return &spreadsheetCSV{w: bufio.NewWriter(w)} }

// Write writes one record with its cells neutralised.
func (w *spreadsheetCSV) Write(record []string) error {
	if w.err != nil {
		return w.err
	}
	var line strings.Builder
	for i, c := range record {
		if i > 0 {
			line.WriteByte(',')
		}
		c = neutraliseFormula(c)
		if strings.ContainsAny(c, ",;\t\"\r\n") || strings.HasPrefix(c, " ") {
			c = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
		}
		line.WriteString(c)
	}
	line.WriteByte('\n')
	_, w.err = w.w.WriteString(line.String())
	return w.err
}

// Flush writes what is buffered; Error reports its failure.
func (w *spreadsheetCSV) Flush() {
	if w.err == nil {
		w.err = w.w.Flush()
	}
}

// Error returns the first failure of a Write or Flush.
func (w *spreadsheetCSV) Error() error { return w.err }

// formulaStarts are the characters that make a spreadsheet read a cell as
// a formula (OWASP: = + - @ tab carriage return), and their full-width
// forms, which some spreadsheets read the same way.
const formulaStarts = "=+-@\t\r＝＋－＠"

// neutraliseFormula returns cell with a leading single quote when it
// starts with one of formulaStarts.
func neutraliseFormula(cell string) string {
	for _, r := range formulaStarts {
		if strings.HasPrefix(cell, string(r)) {
			return "'" + cell
		}
	}
	return cell
}
