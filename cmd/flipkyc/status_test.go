package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/fleet"
	_ "modernc.org/sqlite"
)

// status only reads: on a run it leaves nothing beside the database.
func TestStatusLeavesNoFilesBeside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.db")
	d, err := fleet.Open(context.Background(), path)
	require.NoError(t, err)
	require.NoError(t, d.Close())
	before, _ := os.ReadDir(dir)
	r := fleetCLI(t, nil, nil, "status", "--db", path)
	assert.Equal(t, exitOK, r.code, r.stderr)
	after, _ := os.ReadDir(dir)
	assert.Equal(t, len(before), len(after), "files left beside the run")
}

// status only reads: on a file that holds no run it says so and leaves
// the file as it was, byte for byte, with nothing created beside it.
func TestStatusNeverWrites(t *testing.T) {
	dir := t.TempDir()
	otherDB := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", otherDB)
	require.NoError(t, err)
	_, err = db.Exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine')")
	require.NoError(t, err)
	require.NoError(t, db.Close())
	cases := map[string]string{
		"text file":      filepath.Join(dir, "notes.txt"),
		"empty file":     filepath.Join(dir, "empty.db"),
		"another SQLite": otherDB,
		"missing file":   filepath.Join(dir, "missing.db"),
	}
	require.NoError(t, os.WriteFile(cases["text file"], []byte("not a database\n"), 0o640))
	require.NoError(t, os.WriteFile(cases["empty file"], nil, 0o640))
	for name, path := range cases {
		t.Run(name, func(t *testing.T) {
			before, _ := os.ReadFile(path)
			entries, _ := os.ReadDir(dir)
			r := fleetCLI(t, nil, nil, "status", "--db", path)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			if name == "missing file" {
				assert.Contains(t, r.stderr, "no run at "+path)
				assert.NoFileExists(t, path)
			} else {
				assert.Contains(t, r.stderr, path+" is not a flipkyc run")
				after, err := os.ReadFile(path)
				require.NoError(t, err)
				assert.Equal(t, before, after, "the file changed")
			}
			now, _ := os.ReadDir(dir)
			assert.Equal(t, len(entries), len(now), "files created beside it")
		})
	}
}
