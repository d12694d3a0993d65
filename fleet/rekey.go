package fleet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Rekey re-seals the run's personal data under next and renames its agents
// by next's keyed hash (in fleet_agents and in every job's arguments), in
// one transaction, and records next's check value: afterwards the run
// opens with next only, and the old key is not needed. No process may be
// working the run meanwhile. Agents already erased keep their old names,
// which nobody can link to an identity number once the old key is gone.
func (d *DB) Rekey(ctx context.Context, next *DataKey) error {
	if d.key == nil {
		return ErrNoDataKey
	}
	if next == nil {
		return errors.New("fleet: Rekey needs the new data key")
	}
	if !d.postgres {
		release, err := d.lockRun()
		if err != nil {
			return err
		}
		defer release()
	}
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var live int
		if err := d.queryRow(ctx, tx, "SELECT COUNT(*) FROM fleet_processes WHERE heartbeat_at > ?", nowMillis()-30_000).Scan(&live); err != nil {
			return err
		}
		if live > 0 && d.postgres {
			return fmt.Errorf("fleet: %d processes are working this run: stop them before changing its key", live)
		}
		type stored struct {
			key, row, repair string
			line             int
		}
		var agents []stored
		if err := collect(ctx, tx, "SELECT key, row, repair, line FROM fleet_agents WHERE erased_at = 0", func(s scanner) error {
			var a stored
			err := s.Scan(&a.key, &a.row, &a.repair, &a.line)
			agents = append(agents, a)
			return err
		}); err != nil {
			return err
		}
		renamed := make(map[string]string, len(agents))
		for _, a := range agents {
			r, err := d.key.openRow(a.key, a.row, a.line)
			if err != nil {
				return err
			}
			key := next.agentKey(r.Params.IdentityNumber)
			s, err := next.sealRow(key, r)
			if err != nil {
				return err
			}
			repair := ""
			if a.repair != "" {
				plain, err := d.key.open(a.key, a.repair)
				if err != nil {
					return fmt.Errorf("fleet: stored correction of line %d: %w", a.line, err)
				}
				repair = next.seal(key, plain)
			}
			if _, err := d.exec(ctx, tx, "UPDATE fleet_agents SET key = ?, row = ?, repair = ?, personal_fields = ?, phone_key = ? WHERE key = ?", key, s.row, repair, s.fields, s.phoneKey, a.key); err != nil {
				return err
			}
			if _, err := d.exec(ctx, tx, "UPDATE fleet_journal SET agent_key = ? WHERE agent_key = ?", key, a.key); err != nil {
				return err
			}
			renamed[a.key] = key
		}
		if err := d.rekeyJobs(ctx, tx, func(k string) string {
			if n, ok := renamed[k]; ok {
				return n
			}
			return k
		}); err != nil {
			return err
		}
		_, err := d.exec(ctx, tx, "UPDATE fleet_meta SET value = ? WHERE name = 'key_check'", next.check)
		return err
	})
	if err != nil {
		return err
	}
	d.key = next
	d.scrub(ctx)
	return nil
}
