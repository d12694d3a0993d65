package katsutest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/flipkyc/flipkyc/katsu"
	"github.com/flipkyc/flipkyc/katsu/katsutest"
)

// This example is the core of a test of code that uses katsu: start the
// fake, seed a record, point a client at it, call it, and check what the
// fake holds and received. In a test, pass t to NewServer and the server is
// closed when the test ends.
func ExampleNewServer() {
	srv := katsutest.NewServer(nil)
	defer srv.Close()
	rec := srv.AddRecord(katsu.Record{Name: "Ada Obi", OwnerID: "1c0ffee0-1234-4abc-8def-0123456789ab"})

	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.Update(context.Background(), katsu.UpdateParams{KYCID: rec.ID, Tier: katsu.Tier2, BVN: "22212345678"})
	if err != nil {
		log.Fatal(err)
	}
	stored, _ := srv.Record(rec.ID)
	fmt.Println(stored.Tier, stored.Status)
	req := srv.RequestsTo(katsutest.RouteUpdate)[0]
	fmt.Println(req.Path, string(req.Body))
	// Output:
	// Tier2 Pending
	// /api/v1/Kyc/update {"tier":2,"addressVerified":false,"bvn":"22212345678","kycId":"00000000-0000-4000-8000-000000000001"}
}

// ExampleServer_FailNext makes the next two reads fail with 503: the client
// retries a read, so the call succeeds on its third attempt.
func ExampleServer_FailNext() {
	srv := katsutest.NewServer(nil)
	defer srv.Close()
	rec := srv.AddRecord(katsu.Record{})
	client, err := srv.NewClient(katsu.WithRetryPolicy(katsu.RetryPolicy{BaseDelay: time.Millisecond}))
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNext(katsutest.RouteGet, 2, 503)
	var meta katsu.Response
	if _, err := client.Get(context.Background(), rec.ID, katsu.ResponseInto(&meta)); err != nil {
		log.Fatal(err)
	}
	fmt.Println(meta.Attempts, "attempts")
	// Output:
	// 3 attempts
}

// ExampleServer_DropNext drops the connection of an update once its
// request is read: the client cannot know whether Katsu applied it, does not
// send it again, and says so.
func ExampleServer_DropNext() {
	srv := katsutest.NewServer(nil)
	defer srv.Close()
	rec := srv.AddRecord(katsu.Record{})
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	srv.DropNext(katsutest.RouteUpdate, 1)
	_, err = client.Update(context.Background(), katsu.UpdateParams{KYCID: rec.ID, Tier: katsu.Tier1, BVN: "22212345678"})
	fmt.Println(errors.Is(err, katsu.ErrOutcomeUnknown))
	fmt.Println(len(srv.RequestsTo(katsutest.RouteUpdate)), "request")
	// Output:
	// true
	// 1 request
}

// ExampleWithToken shows the fake refusing a client with another token, in
// French.
func ExampleWithToken() {
	srv := katsutest.NewServer(nil, katsutest.WithToken("the-right-token"))
	defer srv.Close()
	client, err := katsu.New("a-wrong-token", append(srv.ClientOptions(), katsu.WithLanguage(katsu.French))...)
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.List(context.Background(), katsu.ListParams{})
	fmt.Println(errors.Is(err, katsu.ErrUnauthorized))
	fmt.Println(strings.Contains(fmt.Sprint(srv), "the-right-token")) // the token is never printed
	// Output:
	// true
	// false
}
