package fleet

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// A SQLite connection prepares a query the first time it runs it and runs
// it again from that statement; the same query run while its first rows
// are still being read runs on its own, and both read every row.
func TestSQLiteConnectionKeepsStatementsPrepared(t *testing.T) {
	ctx := context.Background()
	db := sql.OpenDB(sqliteConnector{filepath.Join(t.TempDir(), "cache.db")})
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := db.ExecContext(ctx, "INSERT INTO t (v) VALUES (?)", i); err != nil {
			t.Fatal(err)
		}
	}
	const q = "SELECT v FROM t ORDER BY v"
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	read := func(rows *sql.Rows) []int {
		var got []int
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		return got
	}
	outer, err := conn.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	outer.Next()
	inner, err := conn.QueryContext(ctx, q) // while outer is open
	if err != nil {
		t.Fatal(err)
	}
	if got := read(inner); len(got) != 3 {
		t.Errorf("inner query read %v, want 0 1 2", got)
	}
	inner.Close()
	if got := read(outer); len(got) != 2 {
		t.Errorf("outer query read %v after its first row, want 1 2", got)
	}
	outer.Close()
	var first any
	for range 2 {
		rows, err := conn.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		read(rows)
		rows.Close()
		if err := conn.Raw(func(dc any) error {
			cs := dc.(*cachingConn).stmts[q]
			if cs == nil {
				t.Fatal("the query's statement is not kept")
			}
			if first == nil {
				first = cs.st
			} else if first != cs.st {
				t.Error("the query was prepared again")
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}
