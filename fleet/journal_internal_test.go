package fleet

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// Every page of the agent list is read through an index, in line order,
// without sorting and without OFFSET: a page deep in a list of 50,000
// costs what the first does (BenchmarkAgentsPage measures it). SQLite's
// plan for each filter shows it.
func TestAgentsQueryUsesIndexes(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "run.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, filter := range []AgentFilter{
		{},
		{AfterLine: 49_000},
		{State: StateRejected, AfterLine: 100},
		{Attention: true},
		{KYCStatus: "PENDING"},
		{Code: 14},
		{State: StateRejected, Code: 14},
		{Line: 700},
		{AgentID: 1001},
	} {
		q, args, _ := agentsQuery(filter)
		if strings.Contains(strings.ToUpper(q), "OFFSET") {
			t.Errorf("%+v: the query pages by OFFSET: %s", filter, q)
		}
		rows, err := d.sql.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "; ")
		if !strings.Contains(text, "INDEX") || strings.Contains(text, "TEMP B-TREE") {
			t.Errorf("%+v: plan %q; want an index, no sort", filter, text)
		}
		t.Logf("%+v: %s", filter, text)
	}
}
