package fleet

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/flipkyc/flipkyc"
)

// An agent forgotten while its create is under way stays parked when the
// create comes back: its id is recorded, but it is not taken on to its
// uploads, which would have no data.
func TestForgottenDuringItsCreateStaysParked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key, err := NewDataKey(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, filepath.Join(t.TempDir(), "run.db"), WithDataKey(key))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f, err := New(Config{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	rows := []Row{{Line: 2, Params: flipkyc.AgentParams{Name: "Agent Number 1", IdentityType: flipkyc.IdentityKTP,
		IdentityNumber: "3201000000770001", PhoneNumber: "080000007701"}}}
	if _, _, err := f.Import(ctx, rows); err != nil {
		t.Fatal(err)
	}
	agentKey := key.agentKey(rows[0].Params.IdentityNumber)
	if _, err := db.exec(ctx, db.sql, "UPDATE fleet_agents SET state = ?, create_request_id = ? WHERE key = ?", StateCreating, "bigflip-rid", agentKey); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Forget(ctx, Forget{Line: rows[0].Line}); err != nil {
		t.Fatal(err)
	}
	before, err := f.load(ctx, db.sql, agentKey)
	if err != nil {
		t.Fatal(err)
	}
	f.recordCreated(ctx, &agent{Key: agentKey}, "bigflip-rid", &flipkyc.Agent{ID: 1012, KYCStatus: flipkyc.StatusBasicData})
	got, err := f.load(ctx, db.sql, agentKey)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != StateAttention || got.Attention != before.Attention || got.Attention == "" {
		t.Errorf("state %q, reason %q; want it parked with its reason %q", got.State, got.Attention, before.Attention)
	}
	if !got.AgentID.Valid || got.AgentID.Int64 != 1012 {
		t.Errorf("agent id %v, want 1012 recorded", got.AgentID)
	}
}
