package fleet_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A parked agent's reason may quote an image path named after the agent
// ("Agent_Number_0_selfie.png", an identity number, a birth date): Records
// gives the paths of the agent's images with the agent's own personal
// values masked in them, in any letter case, and leaves the rest of the
// reason (the remedy, which may use the same words) as written.
func TestRecordsMaskTheAgentsImagePathsInReasons(t *testing.T) {
	dir := t.TempDir()
	csv := writeRun(t, dir, 1, nil)
	// The selfie named after the agent: name, birth date and identity number.
	data, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	named := "AGENT_number_0_31-10-1990_3201000000000000_selfie.png"
	if err := os.Rename(filepath.Join(dir, "selfie.png"), filepath.Join(dir, named)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(csv, []byte(strings.ReplaceAll(string(data), ",selfie.png", ","+named)), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, filepath.Join(dir, "run.db"))
	rows := readRows(t, csv)
	if _, _, err := h.f.Import(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	const remedy = "; give the agent id in a repair CSV's agent_id column"
	for _, quoted := range []string{named, rows[0].SelfieImage} {
		reason := "cannot read the image: openat " + quoted + ": no such file or directory" + remedy
		if _, err := h.db.SQL().Exec("UPDATE fleet_agents SET state = 'attention', attention = ? WHERE line = ?", reason, rows[0].Line); err != nil {
			t.Fatal(err)
		}
		got := records(t, h.db)[0].Attention
		for _, leak := range []string{"AGENT_", "number", "31-10-1990", "3201000000000000"} {
			if strings.Contains(got, leak) {
				t.Errorf("the reason shows %q: %q", leak, got)
			}
		}
		for _, kept := range []string{"cannot read the image: openat ", "_selfie.png: no such file", remedy} {
			if !strings.Contains(got, kept) {
				t.Errorf("the reason lost %q: %q", kept, got)
			}
		}
	}
}
