package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
)

// Limits of the action forms: a form of fields, and one of photos or
// documents (each image under Flip's 2 MB, documentSlots of them at most).
const (
	maxFormBytes   = 64 << 10
	maxImageBytes  = flipkyc.MaxImageBytes
	maxUploadBytes = (documentSlots+1)*maxImageBytes + maxFormBytes
)

// formTooLarge is what the console answers a form over its limits.
const formTooLarge = "The form is too large: the console takes photos and documents under 2 MB each, at most 3 at once, and fields of at most 64 KB. Nothing was queued."

// doneMessages are what an agent's page says after an action (the done
// parameter of the redirect): fixed texts, never the form's values.
var doneMessages = map[string]string{
	"data":           "Corrected data queued: it is sent to Flip, then the agent is decided again.",
	"identity-photo": "New identity photo queued: it is sent to Flip, then the agent is decided again.",
	"selfie":         "New selfie queued: it is sent to Flip, then the agent is decided again.",
	"documents":      "Supporting documents queued: they are sent to Flip, then the agent is decided again.",
	"agent-id":       "Agent id recorded: the agent goes on from where Flip has it, without a create.",
	"not-created":    "Confirmed not created: the agent is created again under a new Request-ID.",
	"resume":         "Resumed: the step that parked the agent is tried again.",
}

// consoleForm is an action form as read: its fields, and its files' bytes
// (kept in memory only, never written to disk).
type consoleForm struct {
	values url.Values
	files  map[string][]byte
	// tooLarge names the files over Flip's 2 MB.
	tooLarge map[string]bool
}

// readForm reads an action form, URL-encoded or multipart, within the
// limits above. Files are read into memory part by part (never into
// temporary files, as ParseMultipartForm would for large ones).
func readForm(w http.ResponseWriter, r *http.Request) (consoleForm, error) {
	f := consoleForm{values: url.Values{}, files: map[string][]byte{}, tooLarge: map[string]bool{}}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "multipart/form-data" {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			return f, err
		}
		f.values = r.PostForm
		return f, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		return f, err
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return f, nil
		}
		if err != nil {
			return f, err
		}
		name := part.FormName()
		if part.FileName() == "" {
			b, err := io.ReadAll(io.LimitReader(part, maxFormBytes))
			if err != nil {
				return f, err
			}
			f.values.Add(name, string(b))
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, maxImageBytes+1))
		if err != nil {
			return f, err
		}
		if len(b) > maxImageBytes {
			f.tooLarge[name] = true
			if _, err := io.Copy(io.Discard, part); err != nil {
				return f, err
			}
			continue
		}
		if len(b) > 0 {
			f.files[name] = b
		}
	}
}

// checkImage checks an uploaded image with the SDK's rules (PNG or JPEG,
// under 2 MB, 256 to 4096 pixels a side), before anything is queued.
func (f consoleForm) checkImage(field string) ([]byte, string) {
	if f.tooLarge[field] {
		return nil, "must be under 2 MB (Flip's rule)"
	}
	b := f.files[field]
	if b == nil {
		return nil, "choose a file"
	}
	err := flipkyc.Image{Name: field, Content: bytes.NewReader(b)}.Validate()
	var ve *flipkyc.ValidationError
	if errors.As(err, &ve) {
		rules := make([]string, len(ve.Fields))
		for i, fe := range ve.Fields {
			rules[i] = fe.Rule
		}
		return nil, strings.Join(rules, "; ")
	}
	if err != nil {
		return nil, "cannot be read as an image"
	}
	return b, ""
}

// agentAction runs one action form of an agent's page.
func (c *consoleServer) agentAction(w http.ResponseWriter, r *http.Request) {
	line, ok := c.lineOf(w, r)
	if !ok {
		return
	}
	action := r.PathValue("action")
	cl := callerOf(r)
	form, err := readForm(w, r)
	if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
		c.refuse(w, http.StatusRequestEntityTooLarge, formTooLarge)
		return
	}
	if err != nil {
		c.refuse(w, http.StatusBadRequest, "The form could not be read: it is not a form a browser sends.")
		return
	}
	if !c.formTokenOK(w, cl, form.values.Get("csrf")) {
		return
	}
	ctx := fleet.WithActor(r.Context(), cl.actor)
	pd := pageData{Title: fmt.Sprintf("Agent of line %d", line)}
	fieldErrors := map[string]string{}
	var repair *fleet.Repair
	switch action {
	case "reveal":
		row, err := c.Fleet.Reveal(ctx, line)
		switch {
		case errors.Is(err, fleet.ErrErased):
			pd.Error = "This agent's personal data was erased from the run: nothing to reveal."
			c.showAgent(w, r, line, http.StatusConflict, pd, nil, nil)
		case errors.Is(err, fleet.ErrNoSuchAgent):
			c.refuse(w, http.StatusNotFound, fmt.Sprintf("The run has no agent of line %d.", line))
		case err != nil:
			c.failed(w, r, "revealing the agent's data", err)
		default:
			c.Logger.Info("console: revealed an agent's data", "line", line, "actor", cl.actor)
			pd.Done = "Revealed: these values are shown once, on this page only, and the reveal is in the timeline."
			c.showAgent(w, r, line, http.StatusOK, pd, nil, revealedFields(row))
		}
		return
	case "resume":
		err := c.Fleet.ResumeAgent(ctx, line)
		if errors.Is(err, fleet.ErrNotResumable) || errors.Is(err, fleet.ErrNoSuchAgent) {
			why := strings.TrimPrefix(strings.TrimPrefix(err.Error(), fleet.ErrNotResumable.Error()+": "), "fleet: ")
			pd.Error = "This agent cannot be resumed: " + maskText(why)
			c.showAgent(w, r, line, http.StatusConflict, pd, nil, nil)
			return
		}
		if err != nil {
			c.failed(w, r, "resuming the agent", err)
			return
		}
		c.actionDone(w, r, line, action, cl)
		return
	case "data":
		cols := map[string]string{}
		for _, f := range dataFields {
			cols[f.Name] = form.values.Get(f.Name)
		}
		repair = readRepairRow(cols, fieldErrors)
	case "identity-photo", "selfie":
		b, rule := form.checkImage("photo")
		if rule != "" {
			fieldErrors["photo"] = rule
			break
		}
		repair = &fleet.Repair{}
		if action == "selfie" {
			repair.SelfieImageData = b
		} else {
			repair.IdentityImageData = b
		}
	case "documents":
		repair = documentsRepair(form, fieldErrors)
	case "agent-id":
		repair = readRepairRow(map[string]string{"agent_id": form.values.Get("agent_id")}, fieldErrors)
	case "not-created":
		repair = readRepairRow(map[string]string{"not_created": form.values.Get("not_created")}, fieldErrors)
	default:
		c.refuse(w, http.StatusNotFound, "No such action.")
		return
	}
	if len(fieldErrors) == 0 && repair != nil {
		repair.AgentLine, repair.Line = line, line
		refused, err := c.Fleet.Repair(ctx, []fleet.Repair{*repair})
		if err != nil {
			c.failed(w, r, "queueing the correction", err)
			return
		}
		for _, re := range refused {
			field := re.Field
			if field == "identity_number" || field == "row" {
				// The repair CSV's key column, or its whole row: in the
				// console, the agent itself, whose state, rejection or
				// erasure refuses the action.
				pd.Error = "Nothing was queued: " + maskText(re.Rule) + "."
				c.showAgent(w, r, line, http.StatusConflict, pd, nil, nil)
				return
			}
			switch field {
			case "identity_image", "selfie_image":
				field = "photo"
			case "documents":
				field = "document_1"
			}
			fieldErrors[field] = strings.TrimSpace(fieldErrors[field] + " " + maskText(re.Rule))
		}
		if len(fieldErrors) == 0 {
			c.actionDone(w, r, line, action, cl)
			return
		}
	}
	// The values refused are not shown again: they may be personal data;
	// the rules they break are, by field (a rule never repeats a value).
	var broken []string
	for _, field := range slices.Sorted(maps.Keys(fieldErrors)) {
		broken = append(broken, field+": "+fieldErrors[field])
	}
	pd.Error = "Nothing was queued (" + strings.Join(broken, "; ") + "). Give the form again."
	c.showAgent(w, r, line, http.StatusUnprocessableEntity, pd, fieldErrors, nil)
}

// actionDone logs an action that took effect, wakes the worker and sends
// the browser back to the agent's page.
func (c *consoleServer) actionDone(w http.ResponseWriter, r *http.Request, line int, action string, cl caller) {
	c.Logger.Info("console: action", "action", action, "line", line, "actor", cl.actor)
	if c.Work != nil {
		c.Work.wake()
	}
	http.Redirect(w, r, fmt.Sprintf("/agents/%d?done=%s", line, action), http.StatusSeeOther)
}

// readRepairRow reads the columns of a form as a repair CSV's row is read
// (fleet.ReadRepairCSV: the same parsing and the SDK's rules), and returns
// its correction without the agent (the caller names it by line), or nil
// with the rule each column breaks in fieldErrors. Empty columns are left
// out.
func readRepairRow(columns map[string]string, fieldErrors map[string]string) *fleet.Repair {
	header := []string{"identity_number"}
	row := []string{"console"} // a placeholder: the agent is named by its line
	for _, name := range slices.Sorted(maps.Keys(columns)) {
		if v := strings.TrimSpace(columns[name]); v != "" {
			header = append(header, name)
			row = append(row, v)
		}
	}
	if len(header) == 1 {
		fieldErrors["data"] = "fill in the form: nothing was given"
		return nil
	}
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	_ = cw.Write(header)
	_ = cw.Write(row)
	cw.Flush()
	repairs, bad, err := fleet.ReadRepairCSV(&b, os.TempDir())
	if err != nil {
		fieldErrors["data"] = "could not be read"
		return nil
	}
	for _, e := range bad {
		fieldErrors[e.Field] = strings.TrimSpace(fieldErrors[e.Field] + " " + maskText(e.Rule))
	}
	if len(bad) > 0 || len(repairs) != 1 {
		return nil
	}
	rp := repairs[0]
	rp.Line, rp.IdentityNumber, rp.Images = 0, "", ""
	return &rp
}

// documentsRepair reads the documents form: up to documentSlots pairs of a
// type and an image, each checked with the SDK's image rules.
func documentsRepair(form consoleForm, fieldErrors map[string]string) *fleet.Repair {
	var docs []fleet.DocumentFile
	for i := 1; i <= documentSlots; i++ {
		n := strconv.Itoa(i)
		typ := flipkyc.DocumentType(form.values.Get("type_" + n))
		field := "document_" + n
		if form.files[field] == nil && !form.tooLarge[field] {
			continue
		}
		if !typ.Known() {
			fieldErrors[field] = "choose the document's type"
			continue
		}
		b, rule := form.checkImage(field)
		if rule != "" {
			fieldErrors[field] = rule
			continue
		}
		docs = append(docs, fleet.DocumentFile{Type: typ, Selfie: form.values.Get("selfie_"+n) != "", Data: b})
	}
	if len(docs) == 0 && len(fieldErrors) == 0 {
		fieldErrors["document_1"] = "choose at least one document"
	}
	if len(fieldErrors) > 0 {
		return nil
	}
	return &fleet.Repair{Documents: docs}
}

// revealedFields lists an agent's personal data for the page that reveals
// it.
func revealedFields(row fleet.Row) []revealedField {
	p := row.Params
	id := func(n int64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	return []revealedField{
		{"Name", p.Name},
		{"Identity type", string(p.IdentityType)},
		{"Identity number", p.IdentityNumber},
		{"Birth date", p.BirthDate.String()},
		{"Birth place", p.BirthPlace},
		{"Gender", string(p.Gender)},
		{"Occupation", string(p.Occupation)},
		{"Country, province, city, district ids", strings.Join([]string{id(p.CountryID), id(p.ProvinceID), id(p.CityID), id(p.DistrictID)}, ", ")},
		{"Address", p.Address},
		{"Phone number", p.PhoneNumber},
		{"E-mail", p.Email},
		{"Identity photo", row.IdentityImage},
		{"Selfie", row.SelfieImage},
	}
}
