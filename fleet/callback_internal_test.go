package fleet

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// The hash a run keeps of a callback's raw data cannot confirm a guessed
// name: everything else in the raw data (agent id, status, times) is
// stored beside it or easily guessed, so a hash over the name would let a
// copy of the database be searched with a list of names. It leaves out
// the free text (agent_name, rejected_reason) and still tells apart
// callbacks that differ in anything else.
func TestRawHashLeavesOutTheName(t *testing.T) {
	raw := func(name, status, reason string) string {
		return `{"agent_id":1002,"agent_name":"` + name + `","kyc_status":"` + status + `","rejected_reason_code":null,"rejected_reason":"` + reason +
			`","created_at":"2026-12-07 11:38:30","updated_at":"2026-12-07 11:38:38","submitted_at":null,"verified_at":null}`
	}
	budi := raw("Budi Santoso", "APPROVED", "")
	sum := sha256.Sum256([]byte(budi))
	for _, tc := range []struct {
		name, a, b string
		same       bool
	}{
		{"another name", budi, raw("Siti Rahayu", "APPROVED", ""), true},
		{"another reason text", raw("Budi Santoso", "REJECTED", "Budi Santoso 3201010101900001"), raw("Budi Santoso", "REJECTED", ""), true},
		{"another status", budi, raw("Budi Santoso", "REJECTED", ""), false},
	} {
		if got := rawHash(tc.a) == rawHash(tc.b); got != tc.same {
			t.Errorf("%s: same hash %v, want %v", tc.name, got, tc.same)
		}
	}
	if rawHash(budi) == hex.EncodeToString(sum[:]) {
		t.Error("the stored hash is the SHA-256 of the raw data, name included")
	}
}
