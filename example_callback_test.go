package flipkyc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// The examples of receiving Flip's callbacks.

// callbackRequest returns the request Flip would send for ev, with token.
func callbackRequest(ev flipkyc.Event, token string) *http.Request {
	req, err := flipkyctest.NewCallbackRequest(context.Background(), "http://receiver.example/flip/kyc", ev, token)
	if err != nil {
		log.Fatal(err)
	}
	return req
}

// rejectedEvent is a callback of a review that rejected agent 1001.
func rejectedEvent() flipkyc.Event {
	ev := flipkyc.Event{AgentID: 1001, AgentName: "John Doe", KYCStatus: flipkyc.StatusRejected,
		RejectedReasonCode: 17, RejectedReason: flipkyc.RejectionCode(17).Message()}
	ev.UpdatedAt, _ = flipkyc.ParseTimestamp("2022-02-18 09:48:58")
	return ev
}

func ExampleNewCallbackHandler() {
	handler, err := flipkyc.NewCallbackHandler("token-from-flip-dashboard", func(ctx context.Context, ev flipkyc.Event) error {
		// Store the event before Flip gets its 200: Flip sends it only once.
		fmt.Println("stored", ev.Key(), ev.RejectedReasonCode.Fixes())
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// In a real server: mux.Handle("/flip/kyc", handler).

	// What Flip would send, as a test of the receiver; a forged callback
	// does not reach the function.
	for _, token := range []string{"token-from-flip-dashboard", "forged"} {
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, callbackRequest(rejectedEvent(), token))
		fmt.Println(w.Code)
	}
	// Output:
	// stored 1001/REJECTED/2022-02-18 09:48:58 [repair_identity_image supporting_documents]
	// 200
	// 403
}

// This example receives the callbacks of the fake Flip, which sends them as
// Flip does: one after the check of the images, one after the review.
func ExampleNewCallbackHandler_receiver() {
	events := make(chan flipkyc.Event, 4)
	handler, err := flipkyc.NewCallbackHandler(flipkyctest.DefaultCallbackToken, func(ctx context.Context, ev flipkyc.Event) error {
		events <- ev // in production: store it durably before returning
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	receiver := httptest.NewServer(handler)
	defer receiver.Close()
	srv := flipkyctest.NewServer(nil, flipkyctest.WithCallbacks(receiver.URL, flipkyctest.DefaultCallbackToken))
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	id := readyToSubmit(ctx, client, "3276010101900001") // created, its images uploaded and checked
	ev := <-events
	fmt.Println(ev.AgentID, ev.KYCStatus)
	if _, err := client.SubmitKYC(ctx, id); err != nil {
		log.Fatal(err)
	}
	ev = <-events
	fmt.Println(ev.AgentID, ev.KYCStatus, ev.VerifiedAt.IsZero())
	// Output:
	// 1001 UPLOAD_IDENTITY_SELFIE_SUCCESS
	// 1001 APPROVED false
}

func ExampleNewCallbackParser() {
	parser, err := flipkyc.NewCallbackParser("token-from-flip-dashboard")
	if err != nil {
		log.Fatal(err)
	}
	ev, err := parser.Parse(callbackRequest(rejectedEvent(), "token-from-flip-dashboard"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ev.AgentID, ev.KYCStatus, ev.RejectedReasonCode)

	// The parser never accepts callbacks unchecked.
	_, err = flipkyc.NewCallbackParser("")
	fmt.Println(err)
	// Output:
	// 1001 REJECTED 17
	// flipkyc: callback token is empty; set it to the validation token from Flip's dashboard
}

func ExampleCallbackParser_Parse() {
	parser, err := flipkyc.NewCallbackParser("token-from-flip-dashboard")
	if err != nil {
		log.Fatal(err)
	}
	// A receiver with a handler of its own.
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := parser.Parse(r)
		var ce *flipkyc.CallbackError
		if errors.As(err, &ce) {
			http.Error(w, ce.Reason, ce.Status)
			return
		}
		// A callback with the right token is never refused for its data:
		// keep it, with what could not be read.
		fmt.Printf("agent %d %s, problems: %q\n", ev.AgentID, ev.KYCStatus, ev.Problems)
		w.WriteHeader(http.StatusOK)
	})

	w := httptest.NewRecorder()
	handler.ServeHTTP(w, callbackRequest(rejectedEvent(), "token-from-flip-dashboard"))
	fmt.Println(w.Code)

	body := url.Values{"token": {"token-from-flip-dashboard"}, "data": {`{"agent_id":"1001","kyc_status":"APPROVED","updated_at":"yesterday"}`}}
	r := httptest.NewRequest(http.MethodPost, "/flip/kyc", strings.NewReader(body.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w = httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	fmt.Println(w.Code)
	// Output:
	// agent 1001 REJECTED, problems: []
	// 200
	// agent 1001 APPROVED, problems: ["updated_at: unknown timestamp layout"]
	// 200
}

func ExampleCallbackParser_ParseValues() {
	parser, err := flipkyc.NewCallbackParser("token-from-flip-dashboard")
	if err != nil {
		log.Fatal(err)
	}
	// For a receiver that has parsed the form itself (r.PostForm, say).
	form := url.Values{
		"token": {"token-from-flip-dashboard"},
		"data":  {`{"agent_id":1001,"agent_name":"John Doe","kyc_status":"UPLOAD_IDENTITY_SELFIE_FAILED","rejected_reason_code":"23"}`},
	}
	ev, err := parser.ParseValues(form)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ev.AgentID, ev.KYCStatus, ev.RejectedReasonCode.Fixes())

	form.Set("token", "forged")
	_, err = parser.ParseValues(form)
	fmt.Println(errors.Is(err, flipkyc.ErrInvalidToken))
	// Output:
	// 1001 UPLOAD_IDENTITY_SELFIE_FAILED [repair_selfie]
	// true
}

func ExampleCallbackParser_Format() {
	parser, err := flipkyc.NewCallbackParser("token-from-flip-dashboard", flipkyc.WithCallbackMaxBytes(4096))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(parser)
	// Output: flipkyc.CallbackParser{token: [redacted], maxBytes: 4096}
}

func ExampleCallbackError() {
	parser, err := flipkyc.NewCallbackParser("token-from-flip-dashboard")
	if err != nil {
		log.Fatal(err)
	}
	for _, token := range []string{"", "forged"} {
		_, err := parser.Parse(callbackRequest(rejectedEvent(), token))
		var ce *flipkyc.CallbackError
		if errors.As(err, &ce) {
			fmt.Println(ce.Status, ce.Reason)
		}
	}
	// Output:
	// 401 no token
	// 403 wrong token
}

func ExampleCallbackError_Error() {
	parser, err := flipkyc.NewCallbackParser("token-from-flip-dashboard")
	if err != nil {
		log.Fatal(err)
	}
	_, err = parser.Parse(callbackRequest(rejectedEvent(), "forged"))
	fmt.Println(err)
	// Output: flipkyc: invalid callback token: wrong token
}

func ExampleCallbackError_Unwrap() {
	parser, err := flipkyc.NewCallbackParser("token-from-flip-dashboard", flipkyc.WithCallbackMaxBytes(64))
	if err != nil {
		log.Fatal(err)
	}
	_, err = parser.Parse(callbackRequest(rejectedEvent(), "token-from-flip-dashboard"))
	fmt.Println(errors.Unwrap(err) == flipkyc.ErrMalformedCallback, errors.Is(err, flipkyc.ErrInvalidToken))
	// Output: true false
}

func ExampleWithCallbackLogger() {
	// A text log without the time, which changes from run to run.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	handler, err := flipkyc.NewCallbackHandler("token-from-flip-dashboard",
		func(context.Context, flipkyc.Event) error { return errors.New("database down") },
		flipkyc.WithCallbackLogger(logger))
	if err != nil {
		log.Fatal(err)
	}
	for _, token := range []string{"forged", "token-from-flip-dashboard"} {
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, callbackRequest(rejectedEvent(), token))
		fmt.Println(w.Code)
	}
	// Output:
	// level=WARN msg="flipkyc: callback refused" status=403 reason="flipkyc: invalid callback token: wrong token"
	// 403
	// level=ERROR msg="flipkyc: callback handler failed" agent_id=1001 kyc_status=REJECTED error="database down"
	// 500
}

func ExampleWithCallbackMaxBytes() {
	handler, err := flipkyc.NewCallbackHandler("token-from-flip-dashboard",
		func(context.Context, flipkyc.Event) error { return nil },
		flipkyc.WithCallbackMaxBytes(1024))
	if err != nil {
		log.Fatal(err)
	}
	ev := rejectedEvent()
	ev.RejectedReason = strings.Repeat("x", 2000)
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, callbackRequest(ev, "token-from-flip-dashboard"))
	fmt.Print(w.Code, " ", w.Body.String())
	// Output: 413 flipkyc: malformed callback: body larger than 1024 bytes
}

func ExampleWithCallbackReadTimeout() {
	handler, err := flipkyc.NewCallbackHandler("token-from-flip-dashboard",
		func(context.Context, flipkyc.Event) error { return nil },
		flipkyc.WithCallbackReadTimeout(20*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	// A client that sends the headers and then nothing.
	body, stall := io.Pipe()
	defer stall.Close()
	r := httptest.NewRequest(http.MethodPost, "/flip/kyc", body)
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	fmt.Print(w.Code, " ", w.Body.String())
	// Output: 408 flipkyc: malformed callback: body not received within the read timeout
}

func ExampleEvent_Key() {
	// The same event, delivered twice, has the same key.
	first, second := rejectedEvent(), rejectedEvent()
	fmt.Println(first.Key() == second.Key(), first.Key())

	// A malformed callback's key carries a hash of its data.
	var broken flipkyc.Event
	if err := json.Unmarshal([]byte(`{"kyc_status":"APPROVED"}`), &broken); err != nil {
		log.Fatal(err)
	}
	fmt.Println(broken.Key())
	// Output:
	// true 1001/REJECTED/2022-02-18 09:48:58
	// 0/APPROVED//345bd79ccf0f4756
}

func ExampleEvent_Format() {
	ev := rejectedEvent()
	// Printed into a log by mistake, an event gives no personal data away.
	fmt.Printf("%v\n", ev)
	// Output: flipkyc.Event{AgentID: 1001, AgentName: [masked], KYCStatus: "REJECTED", RejectedReasonCode: 17, RejectedReason: "Part of the data on the photo ID card is missing so it can't be read in its entirety", CreatedAt: "", UpdatedAt: "2022-02-18 09:48:58", SubmittedAt: "", VerifiedAt: "", Raw: "", Problems: []}
}

func ExampleEvent_LogValue() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	logger.Info("callback received", "event", rejectedEvent())
	// Output: level=INFO msg="callback received" event.agent_id=1001 event.kyc_status=REJECTED event.rejected_reason_code=17 event.updated_at="2022-02-18 09:48:58"
}

func ExampleEvent_UnmarshalJSON() {
	// A callback's data, stored as received (Event.Raw), decodes again
	// later, as tolerantly as the parser read it.
	var ev flipkyc.Event
	raw := `{"agent_id":"1001","agent_name":"John ","kyc_status":"approved","rejected_reason_code":null,
		"updated_at":"2022-03-17 09:48:58","verified_at":{}}`
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		log.Fatal(err)
	}
	fmt.Println(ev.AgentID, ev.KYCStatus, ev.UpdatedAt.Time.UTC(), ev.Raw == raw)
	fmt.Println(ev.Problems)
	// Output:
	// 1001 APPROVED 2022-03-17 02:48:58 +0000 UTC true
	// [verified_at: want a timestamp, got an object]
}
