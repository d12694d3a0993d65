package fleet

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"slices"
	"time"
)

// Inventory is what personal data a run holds now and where, without any
// value: for a breach notice, or a data-protection officer's question.
type Inventory struct {
	// Agents is the number of agents in the run; Holding those whose
	// personal data it still holds (sealed), Erased those erased.
	Agents  int `json:"agents"`
	Holding int `json:"holding"`
	Erased  int `json:"erased"`
	// Fields says, for each kind of personal data, how many agents' the
	// run holds and since when (the oldest import still held).
	Fields []FieldCount `json:"fields"`
	// Corrections is the number of pending corrections (repair rows),
	// sealed like the rows.
	Corrections int `json:"corrections"`
	// ImageDirs are the directories of the photos and documents the held
	// rows and corrections name: the run reads them, it does not copy
	// them. Nil when the inventory was read without the data key
	// (ImageDirsKnown false).
	ImageDirs      []string `json:"image_dirs"`
	ImageDirsKnown bool     `json:"image_dirs_known"`
	// Exports are the export files written from the run (flipkyc status
	// --export), which hold what they held when written.
	Exports []ExportFile `json:"exports"`
	// Callbacks is the number of Flip callbacks stored: agent id, status,
	// code, time and a hash of the raw data, no personal data.
	Callbacks int `json:"callbacks"`
	// LastErasure is when the run last erased an agent's data.
	LastErasure time.Time `json:"last_erasure,omitzero"`
}

// FieldCount is how many agents' data of one kind a run holds.
type FieldCount struct {
	Field  PersonalField `json:"field"`
	Agents int           `json:"agents"`
	Since  time.Time     `json:"since,omitzero"`
}

// ExportFile is an export written from the run.
type ExportFile struct {
	Path      string    `json:"path"`
	WrittenAt time.Time `json:"written_at"`
	Agents    int       `json:"agents"`
	// Revealed marks an export with identity numbers in clear (--reveal);
	// the others hold them masked.
	Revealed bool `json:"revealed"`
}

// RecordExport records an export file written from the run, for the
// inventory.
func (d *DB) RecordExport(ctx context.Context, path string, agents int, revealed bool) error {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	rev := 0
	if revealed {
		rev = 1
	}
	_, err := d.exec(ctx, d.sql, "INSERT INTO fleet_exports (path, written_at, agents, revealed) VALUES (?, ?, ?, ?) ON CONFLICT (path, written_at) DO NOTHING",
		path, nowMillis(), agents, rev)
	return err
}

// Inventory reads what personal data the run holds. Without the data key
// it counts everything but the image directories, which are sealed.
func (d *DB) Inventory(ctx context.Context) (Inventory, error) {
	inv := Inventory{Fields: []FieldCount{}, Exports: []ExportFile{}}
	if err := d.sql.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN erased_at = 0 AND row <> '' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN erased_at <> 0 THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN repair <> '' THEN 1 ELSE 0 END), 0) FROM fleet_agents`).
		Scan(&inv.Agents, &inv.Holding, &inv.Erased, &inv.Corrections); err != nil {
		return inv, err
	}
	for i, f := range PersonalFields {
		var n int
		var since sql.NullInt64
		if err := d.queryRow(ctx, d.sql, "SELECT COUNT(*), MIN(created_at) FROM fleet_agents WHERE erased_at = 0 AND (personal_fields & ?) <> 0", 1<<i).Scan(&n, &since); err != nil {
			return inv, err
		}
		fc := FieldCount{Field: f, Agents: n}
		if since.Valid {
			fc.Since = time.UnixMilli(since.Int64)
		}
		inv.Fields = append(inv.Fields, fc)
	}
	if err := d.sql.QueryRowContext(ctx, "SELECT COUNT(*) FROM fleet_events").Scan(&inv.Callbacks); err != nil {
		return inv, err
	}
	var last sql.NullInt64
	if err := d.sql.QueryRowContext(ctx, "SELECT MAX(erased_at) FROM fleet_erasures").Scan(&last); err != nil {
		return inv, err
	}
	if last.Valid {
		inv.LastErasure = time.UnixMilli(last.Int64)
	}
	rows, err := d.sql.QueryContext(ctx, "SELECT path, written_at, agents, revealed FROM fleet_exports ORDER BY written_at")
	if err != nil {
		return inv, err
	}
	for rows.Next() {
		var e ExportFile
		var at int64
		var rev int
		if err := rows.Scan(&e.Path, &at, &e.Agents, &rev); err != nil {
			rows.Close()
			return inv, err
		}
		e.WrittenAt, e.Revealed = time.UnixMilli(at), rev != 0
		inv.Exports = append(inv.Exports, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return inv, err
	}
	if d.key == nil {
		return inv, nil
	}
	dirs, err := d.imageDirs(ctx)
	inv.ImageDirs, inv.ImageDirsKnown = dirs, err == nil
	return inv, err
}

// imageDirs opens the held rows and corrections for the directories of
// the files they name.
func (d *DB) imageDirs(ctx context.Context) ([]string, error) {
	rows, err := d.sql.QueryContext(ctx, "SELECT key, line, row, repair FROM fleet_agents WHERE erased_at = 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	seen := map[string]bool{}
	add := func(paths ...string) {
		for _, p := range paths {
			if p != "" {
				seen[filepath.Dir(p)] = true
			}
		}
	}
	for rows.Next() {
		var key, row, repair string
		var line int
		if err := rows.Scan(&key, &line, &row, &repair); err != nil {
			return nil, err
		}
		// A row or correction that cannot be read names no directory;
		// its agent's step parks it saying so.
		if r, err := d.key.openRow(key, row, line); err == nil {
			add(r.IdentityImage, r.SelfieImage)
		}
		if repair != "" {
			plain, err := d.key.open(key, repair)
			if err != nil {
				continue
			}
			var rp Repair
			if json.Unmarshal(plain, &rp) == nil {
				add(rp.IdentityImage, rp.SelfieImage)
				for _, doc := range rp.Documents {
					add(doc.Path)
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	dirs := make([]string, 0, len(seen))
	for dir := range seen {
		dirs = append(dirs, dir)
	}
	slices.Sort(dirs)
	return dirs, nil
}
