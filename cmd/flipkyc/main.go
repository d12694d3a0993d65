// Command flipkyc works with Flip's Agent KYC API from the command line: a
// fake Flip to develop against (fake), a callback receiver (listen), a
// callback sender (trigger), the API's look-ups and single steps against
// Flip's sandbox, production, or any base URLs (agent, upload, documents,
// submit, repair, locations, ping), and fleet runs that onboard every agent
// of a CSV as durable jobs (onboard, status, repair, forget, rekey), with
// their back office in a browser (console). README.md beside this file walks
// through it, the dev loop included.
//
//	go build -o bin/flipkyc ./cmd/flipkyc   # from a clone
//	flipkyc help
//
// The secret key is read from FLIP_SECRET_KEY only, never from a flag, so it
// stays out of shell history and process lists; it never appears in the
// command's output. Exit status: 0 ok, 1 Flip or network error, 2 usage
// error (bad arguments, invalid input, missing configuration).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/flipkyc/flipkyc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // Flip or the network failed, or a receiver refused
	exitUsage   = 2 // bad arguments, invalid input, missing configuration
)

// envCallbackToken holds the callback validation token for listen, trigger
// and fake, so that it stays out of shell history.
const envCallbackToken = "FLIP_CALLBACK_TOKEN"

// env is what one invocation runs with.
type env struct {
	// checking: onboard --check, which has no run to resume.
	checking       bool
	ctx            context.Context
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
	cmd            *command
	// secrets are removed from everything written to stdout and stderr.
	secrets *secretSet

	json       bool // --json
	production bool // --production
	// resp is filled by the Flip call a command makes (ResponseInto), so
	// that its error line can carry the Request-ID.
	resp flipkyc.Response
}

// command is one subcommand. setup defines its flags on fs and returns the
// function that runs it with the positional arguments.
type command struct {
	path     string // "agent get"
	args     string // "ID"
	summary  string
	help     string
	examples []string
	flip     bool // talks to Flip: takes --production and the FLIP_* variables
	noJSON   bool // has no --json flag
	setup    func(fs *flag.FlagSet, e *env) func(args []string) error
}

// usageError is a mistake in the command line or its input: exit status 2.
type usageError struct {
	msg  string
	hint bool // point at the command's help
}

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), hint: true}
}

// inputErrorf is a problem with the input or configuration that help would
// not solve (a file that cannot be read, FLIP_SECRET_KEY unset): exit 2.
func inputErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printOverview(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			if c, _ := findCommand(args[1:]); c != nil {
				printHelp(stdout, c)
				return exitOK
			}
			fmt.Fprintf(stderr, "flipkyc help: unknown command %q\n", strings.Join(args[1:], " "))
			return exitUsage
		}
		printOverview(stdout)
		return exitOK
	case "-version", "--version":
		args = []string{"version"}
	}
	c, rest := findCommand(args)
	if c == nil {
		if group := groupOf(args[0]); group != nil {
			fmt.Fprintf(stderr, "flipkyc %s: want one of: %s\nRun 'flipkyc help' for every command.\n", args[0], strings.Join(group, ", "))
		} else {
			fmt.Fprintf(stderr, "flipkyc: unknown command %q\nRun 'flipkyc help' for every command.\n", args[0])
		}
		return exitUsage
	}
	secrets := &secretSet{}
	e := &env{ctx: ctx, getenv: getenv, stdin: stdin, cmd: c, secrets: secrets,
		stdout: secretScrubber{w: stdout, secrets: secrets}, stderr: secretScrubber{w: stderr, secrets: secrets}}
	fs := newFlagSet(c, e)
	runCmd := c.setup(fs, e)
	pos, err := parseInterspersed(fs, rest)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printHelp(stdout, c)
		return exitOK
	case err != nil:
		return e.fail(&usageError{msg: cleanFlagError(err), hint: true})
	}
	if err := runCmd(pos); err != nil {
		return e.fail(err)
	}
	return exitOK
}

// newFlagSet returns the command's flag set with the flags every command of
// its kind shares.
func newFlagSet(c *command, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet("flipkyc "+c.path, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by run, help by printHelp
	if !c.noJSON {
		fs.BoolVar(&e.json, "json", false, "print JSON (one value per line) for scripts instead of a table")
	}
	if c.flip {
		fs.BoolVar(&e.production, "production", false, "use Flip's production environment instead of the sandbox")
	}
	return fs
}

// parseInterspersed parses flags wherever they stand among the positional
// arguments ("agent get 1001 --json"), and returns the positional ones. A
// "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// flagValue matches the value that the flag package quotes in its errors;
// it is left out, since a value may be personal data typed into the wrong
// flag.
var flagValue = regexp.MustCompile(`invalid (boolean )?value "(?:[^"\\]|\\.)*" for `)

func cleanFlagError(err error) string {
	return flagValue.ReplaceAllString(err.Error(), "invalid ${1}value for ")
}

// interrupted says that the command was stopped (Ctrl-C, SIGTERM), and
// for one that works on a run, how it goes on.
func (e *env) interrupted() string {
	switch {
	case e.checking:
		return "interrupted: the check did not finish"
	case e.cmd.path == "onboard", e.cmd.path == "repair", e.cmd.path == "resume":
		return "interrupted: run the same command again to resume the run; nothing that took effect is sent again"
	}
	return "interrupted"
}

// fail prints err as one line on stderr (JSON with --json) and returns the
// exit status for it.
func (e *env) fail(err error) int {
	code := exitFailure
	if errors.As(err, new(silentFailure)) {
		return code // the command printed why
	}
	if errors.Is(err, context.Canceled) && e.ctx.Err() != nil {
		err = errors.New(e.interrupted())
	}
	var ue *usageError
	var ve *flipkyc.ValidationError
	switch {
	case errors.As(err, &ue):
		code = exitUsage
	case errors.As(err, &ve):
		code = exitUsage
	}
	msg := strings.TrimPrefix(err.Error(), "flipkyc: ")
	if ve != nil {
		msg += " (nothing was sent)"
	}
	requestID := e.resp.RequestID
	if requestID != "" && !strings.Contains(msg, requestID) && ve == nil && ue == nil {
		msg += " [Request-ID " + requestID + "]"
	}
	msg = printable(strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", "; ")), " "))
	name := "flipkyc " + e.cmd.path
	if e.json {
		out := jsonError{Command: name, Error: msg, ExitStatus: code}
		if ve == nil && ue == nil {
			out.RequestID, out.HTTPStatus = requestID, e.resp.StatusCode
		}
		if ve != nil {
			for _, f := range ve.Fields {
				out.Fields = append(out.Fields, jsonFieldError{Field: f.Field, Rule: f.Rule})
			}
		}
		writeJSON(e.stderr, out)
		return code
	}
	fmt.Fprintf(e.stderr, "%s: %s\n", name, msg)
	if ue != nil && ue.hint {
		fmt.Fprintf(e.stderr, "Run '%s -h' for help.\n", name)
	}
	return code
}

// warn prints a warning line on stderr.
func (e *env) warn(format string, args ...any) {
	fmt.Fprintf(e.stderr, "flipkyc %s: warning: %s\n", e.cmd.path, fmt.Sprintf(format, args...))
}

// jsonError is an error line under --json.
type jsonError struct {
	Command    string           `json:"command"`
	Error      string           `json:"error"`
	ExitStatus int              `json:"exit_status"`
	RequestID  string           `json:"request_id,omitempty"`
	HTTPStatus int              `json:"http_status,omitempty"`
	Fields     []jsonFieldError `json:"fields,omitempty"`
}

type jsonFieldError struct {
	Field string `json:"field"`
	Rule  string `json:"rule"`
}

// writeJSON writes v as one line of JSON, with every character a terminal
// would act on escaped.
func writeJSON(w io.Writer, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) == nil {
		_, _ = w.Write(terminalSafeJSON(b.Bytes()))
	}
}

// table returns a writer of aligned columns; call Flush when done.
func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// needArgs checks the number of positional arguments.
func needArgs(args []string, names ...string) error {
	switch {
	case len(args) < len(names):
		return usagef("missing %s", strings.Join(names[len(args):], " "))
	case len(args) > len(names):
		return usagef("too many arguments (want %s)", strings.Join(names, " "))
	}
	return nil
}
