package fleet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// A Record prints and logs without its identity number, under every verb,
// alone or inside a Summary; json.Marshal keeps it for an export.
func TestRecordPrintsMasked(t *testing.T) {
	const identity = "3174096512880077"
	r := Record{Line: 3, IdentityNumber: identity, AgentID: 12, State: StateAttention, Attention: "ask Flip"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("agent", "record", r)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("agent", "record", r)
	printed := []string{logs.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		printed = append(printed, fmt.Sprintf(verb, r), fmt.Sprintf(verb, Summary{Attention: []Record{r}}))
	}
	for _, p := range printed {
		if strings.Contains(p, identity) || !strings.Contains(p, "ask Flip") {
			t.Errorf("printed %q", p)
		}
	}
	b, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(b), identity) {
		t.Errorf("json.Marshal = %s, %v; want the identity number kept", b, err)
	}
}
