package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/flipkyc/flipkyc"
)

// commands lists every subcommand, in the order help shows them.
var commands = []*command{
	fakeCommand,
	listenCommand,
	triggerCommand,
	pingCommand,
	agentGetCommand,
	agentCreateCommand,
	agentUpdateCommand,
	uploadIdentityCommand,
	uploadSelfieCommand,
	documentsCommand,
	submitCommand,
	repairDataCommand,
	repairPhotoCommand,
	repairSelfieCommand,
	locationsCountriesCommand,
	locationsProvincesCommand,
	locationsCitiesCommand,
	locationsDistrictsCommand,
	onboardCommand, // after "repair data|photo|selfie", which findCommand must match first
	statusCommand,
	repairCommand,
	forgetCommand,
	rekeyCommand,
	resumeCommand,
	consoleCommand,
	versionCommand,
}

// findCommand returns the command named by the leading words of args and the
// arguments after them, or nil.
func findCommand(args []string) (*command, []string) {
	for _, c := range commands {
		words := strings.Fields(c.path)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.path {
			return c, args[len(words):]
		}
	}
	return nil, nil
}

// groupOf returns the subcommands of a group such as "agent", or nil.
func groupOf(word string) []string {
	var subs []string
	for _, c := range commands {
		if first, rest, ok := strings.Cut(c.path, " "); ok && first == word {
			subs = append(subs, rest)
		}
	}
	return subs
}

func printOverview(w io.Writer) {
	fmt.Fprint(w, `flipkyc: Flip's Agent KYC API from the command line, and a fake Flip to develop against.

Usage: flipkyc <command> [arguments] [flags]

`)
	section := func(title string, flip bool) {
		fmt.Fprintln(w, title)
		t := table(w)
		for _, c := range commands {
			if c.flip == flip {
				fmt.Fprintf(t, "  %s\t%s\n", strings.TrimSpace(c.path+" "+c.args), c.summary)
			}
		}
		_ = t.Flush()
		fmt.Fprintln(w)
	}
	section("Local development (no Flip account needed):", false)
	section("Against Flip (sandbox unless --production):", true)
	fmt.Fprintf(w, `Commands that talk to Flip read the secret key from %s, never from a flag,
so it stays out of shell history; %s and %s set other base URLs.
Output is an aligned table; --json prints JSON for scripts.
Exit status: 0 ok, 1 Flip or network error, 2 usage error.

Run 'flipkyc <command> -h' for a command's flags and an example.
`, flipkyc.EnvSecretKey, flipkyc.EnvAPIBaseURL, flipkyc.EnvKYCBaseURL)
}

// printHelp prints a command's usage, flags, environment and examples.
func printHelp(w io.Writer, c *command) {
	args := ""
	if c.args != "" {
		args = c.args + " "
	}
	fmt.Fprintf(w, "Usage: flipkyc %s %s[flags]\n\n%s\n", c.path, args, strings.TrimSpace(c.help))
	fs := newFlagSet(c, &env{})
	c.setup(fs, &env{})
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	if len(flags) > 0 {
		fmt.Fprintln(w, "\nFlags:")
		t := table(w)
		for _, f := range flags {
			name, usage := flag.UnquoteUsage(f)
			switch {
			case isBool(f):
				name = ""
			case metavar(f.Name) != "":
				name = metavar(f.Name)
			default:
				name = map[string]string{"string": "TEXT", "int": "N", "duration": "DURATION"}[name]
			}
			def := ""
			switch f.DefValue {
			case "", "0", "false", "0s", "[]":
			default:
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(t, "  --%s %s\t%s%s\n", f.Name, name, usage, def)
		}
		_ = t.Flush()
	}
	if c.flip {
		fmt.Fprintf(w, `
Environment:
  %s    the secret key from Flip's dashboard (required; read only from the
                     environment, so it stays out of shell history and process lists)
  %s  the v2 agents API base URL (default: the environment's)
  %s  the KYC service base URL (default: the environment's)
`, flipkyc.EnvSecretKey, flipkyc.EnvAPIBaseURL, flipkyc.EnvKYCBaseURL)
	}
	if len(c.examples) > 0 {
		fmt.Fprintln(w, "\nExample:")
		for _, ex := range c.examples {
			fmt.Fprintln(w, "  "+ex)
		}
	}
}

// metavars names the values of flags in help, by flag name.
var metavars = map[string]string{
	"addr": "ADDR", "url": "URL", "callback-url": "URL", "forward-to": "URL", "token": "TOKEN", "callback-token": "TOKEN",
	"token-file": "FILE", "callback-token-file": "FILE", "tls-cert": "FILE", "tls-key": "FILE",
	"agent": "ID", "reason": "CODE", "reason-text": "TEXT", "from-json": "FILE", "doc": "TYPE=FILE", "selfie": "TYPE=FILE",
	"type": "ktp|passport", "reviewer": "OUTCOME", "upload-check": "OUTCOME", "identity-type": "ktp|passport",
	"gender": "male|female", "birth-date": "DD-MM-YYYY", "occupation": "OCCUPATION", "phone": "NUMBER", "email": "ADDRESS",
}

// metavar returns the name of a flag's value in help, or "".
func metavar(flagName string) string {
	if m := metavars[flagName]; m != "" {
		return m
	}
	for _, f := range agentFields {
		if f.flag == flagName {
			return map[fieldKind]string{kindText: "TEXT", kindID: "ID", kindDate: "DATE"}[f.kind]
		}
	}
	return ""
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

var versionCommand = &command{
	path:     "version",
	summary:  "print the SDK version the command is built with",
	help:     "Prints the version of the flipkyc SDK the command is built with, and with --json the Go version too.",
	examples: []string{"flipkyc version", "flipkyc version --json"},
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		return func(args []string) error {
			if err := needArgs(args); err != nil {
				return err
			}
			if e.json {
				writeJSON(e.stdout, struct {
					Version string `json:"version"`
					Go      string `json:"go"`
				}{flipkyc.Version, runtime.Version()})
				return nil
			}
			fmt.Fprintln(e.stdout, "flipkyc "+flipkyc.Version)
			return nil
		}
	},
}
