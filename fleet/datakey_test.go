package fleet

import (
	"bytes"
	"strings"
	"testing"
)

// A sealed value opens only for the agent it was sealed for, under the key
// it was sealed with; the same number under two keys gets two names.
func TestSealedValueBoundToAgentAndKey(t *testing.T) {
	k1, _ := NewDataKey(bytes.Repeat([]byte{1}, DataKeySize))
	k2, _ := NewDataKey(bytes.Repeat([]byte{2}, DataKeySize))
	a, b := k1.agentKey("3201000000000001"), k1.agentKey("3201000000000002")
	if a == b || a == k2.agentKey("3201000000000001") || strings.Contains(a, "3201") || len(a) != 32 {
		t.Fatalf("agent keys %q %q %q", a, b, k2.agentKey("3201000000000001"))
	}
	sealed := k1.seal(a, []byte("Agent Number 1"))
	if strings.Contains(sealed, "Agent") || sealed == k1.seal(a, []byte("Agent Number 1")) {
		t.Fatalf("seal is not randomised encryption: %q", sealed)
	}
	if plain, err := k1.open(a, sealed); err != nil || string(plain) != "Agent Number 1" {
		t.Fatalf("open = %q, %v", plain, err)
	}
	for name, open := range map[string]func() ([]byte, error){
		"another agent": func() ([]byte, error) { return k1.open(b, sealed) },
		"another key":   func() ([]byte, error) { return k2.open(a, sealed) },
		"cut short":     func() ([]byte, error) { return k1.open(a, sealed[:len(sealed)-3]) },
		"not sealed":    func() ([]byte, error) { return k1.open(a, `{"line":2}`) },
	} {
		if _, err := open(); err != errUnsealable {
			t.Errorf("%s: %v, want errUnsealable", name, err)
		}
	}
}
