package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// crashAfterWork fails every job that its step finished, as a process
// killed between the step and River's completion of its job would.
type crashAfterWork struct{ river.HookDefaults }

var _ rivertype.HookWorkEnd = &crashAfterWork{}

var errCrashAfterWork = errors.New("crashed after the step, before River completed the job")

func (*crashAfterWork) WorkEnd(_ context.Context, _ *rivertype.JobRow, err error) error {
	if err == nil {
		return errCrashAfterWork
	}
	return err
}

// A step's last state change completes its job in the same transaction:
// a crash after it cannot have the job run again.
func TestStateChangeCompletesItsJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key, err := NewDataKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, filepath.Join(t.TempDir(), "run.db"), WithDataKey(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fake := flipkyctest.NewServer(t) // no callbacks: reads settle the agents
	f, err := New(Config{DB: db, SecretKey: fake.SecretKey(), Rate: 1000, StaleAfter: 50 * time.Millisecond,
		ReconcileEvery: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond,
		ClientOptions: []flipkyc.Option{flipkyc.WithBaseURLs(fake.AgentsURL, fake.KYCURL)},
		hooks:         []rivertype.Hook{&crashAfterWork{}}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"ktp.png", "selfie.png"} {
		var b bytes.Buffer
		if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 256, 256))); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var csv strings.Builder
	csv.WriteString("name,identity_type,identity_number,birth_date,birth_place,gender,occupation,country_id,province_id,city_id,district_id,address,phone_number,email,identity_image,selfie_image\n")
	for i := range 3 {
		fmt.Fprintf(&csv, "Agent Number %d,ktp,320100000077%04d,31-10-1990,Kota Depok,male,entrepreneur,1,12,184,1234,Jalan Margonda Raya 1,0800000077%02d,,ktp.png,selfie.png\n", i, i, i)
	}
	rows, bad, err := ReadCSV(strings.NewReader(csv.String()), dir)
	if err != nil || len(bad) > 0 {
		t.Fatalf("ReadCSV: %v %v", bad, err)
	}
	if _, _, err := f.Import(ctx, rows); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := f.Run(rctx, nil); err != nil {
		t.Fatal(err)
	}
	c, err := db.Counts(ctx)
	if err != nil || c[StateApproved] != 3 {
		sum, _ := db.Summarize(ctx)
		t.Logf("%+v", sum.Attention)
		t.Fatalf("counts %v (%v), want 3 approved", c, err)
	}
	var again int
	if err := db.sql.QueryRow("SELECT COUNT(*) FROM river_job WHERE kind <> 'fleet_reconcile' AND errors IS NOT NULL").Scan(&again); err != nil {
		t.Fatal(err)
	}
	if again > 0 {
		t.Errorf("%d jobs failed after their step's state change (and ran again), want 0", again)
	}
}
