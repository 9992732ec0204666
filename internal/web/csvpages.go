package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/csvio"
)

// CSV import and export in Settings → Users (docs/csv.md describes the
// files). Import checks every row and changes nothing if any is wrong;
// the page then lists each bad row with its column and reason.

// maxCSVUpload is the largest file the import form accepts: well above
// 100,000 rows of staff.
const maxCSVUpload = 32 << 20

// shownRowErrors bounds the problems one page lists.
const shownRowErrors = 500

type importView struct {
	Page
	Kind    string
	Message string
	Rows    []cohort.RowError
	// MoreRows counts problems not listed.
	MoreRows int
}

func (h *Handler) handleImportForm(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireUserManager(r); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "users_import", importView{Page: h.settingsPage(r, "users", "Import CSV"), Kind: "users"})
}

func (h *Handler) handleImport(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireUserManager(r); err != nil {
		return err
	}
	v := importView{Page: h.settingsPage(r, "users", "Import CSV"), Kind: "users"}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			v.Message = fmt.Sprintf("The file is larger than %d MB: split it into several files and import them one by one.", maxCSVUpload>>20)
			return h.render(w, r, http.StatusRequestEntityTooLarge, "users_import", v)
		}
		v.Message = "The upload could not be read. Choose the CSV file again and select Import."
		return h.render(w, r, http.StatusBadRequest, "users_import", v)
	}
	// Files the upload spilled to disk go when the answer is written.
	defer r.MultipartForm.RemoveAll()
	if k := r.PostForm.Get("kind"); k == "groups" {
		v.Kind = k
	}
	if v.Kind == "groups" {
		if err := h.requireManager(r); err != nil {
			return err
		}
	}
	file, _, err := r.FormFile("file")
	if err != nil {
		v.Message = "Choose a CSV file to import."
		return h.render(w, r, http.StatusUnprocessableEntity, "users_import", v)
	}
	defer file.Close()
	var res cohort.ImportResult
	if v.Kind == "users" {
		var rows []cohort.UserImport
		if rows, err = csvio.ReadUsers(file); err == nil {
			res, err = h.svc.Imports.ImportUsers(r.Context(), rows)
		}
	} else {
		var rows []cohort.GroupImport
		if rows, err = csvio.ReadGroups(file); err == nil {
			res, err = h.svc.Imports.ImportGroups(r.Context(), rows)
		}
	}
	var ie *cohort.ImportError
	switch {
	case err == nil:
		q := url.Values{"imported": {v.Kind}, "created": {strconv.Itoa(res.Created)},
			"updated": {strconv.Itoa(res.Updated)}, "unchanged": {strconv.Itoa(res.Unchanged)}}
		http.Redirect(w, r, "/settings/users?"+q.Encode(), http.StatusSeeOther)
		return nil
	case errors.As(err, &ie):
		v.Message = cleanText(cohort.ErrorMessage(err), 2000)
		rows := ie.Rows
		if len(rows) > shownRowErrors {
			rows, v.MoreRows = rows[:shownRowErrors], len(ie.Rows)-shownRowErrors
		}
		// Messages may quote the file's text: show it without control
		// characters.
		for _, re := range rows {
			v.Rows = append(v.Rows, cohort.RowError{Row: re.Row, Column: cleanText(re.Column, 100), Message: cleanText(re.Message, 2000)})
		}
		return h.render(w, r, http.StatusUnprocessableEntity, "users_import", v)
	case cohort.ErrorCode(err) == cohort.EINVALID || cohort.ErrorCode(err) == cohort.ECONFLICT:
		v.Message = cleanText(cohort.ErrorMessage(err), 2000) + " Nothing was imported."
		return h.render(w, r, http.StatusUnprocessableEntity, "users_import", v)
	default:
		return err
	}
}

func (h *Handler) handleExportUsers(w http.ResponseWriter, r *http.Request) error {
	return h.export(w, r, "users", func(out io.Writer) error { return csvio.WriteUsers(r.Context(), out, h.svc.Users) })
}

func (h *Handler) handleExportGroups(w http.ResponseWriter, r *http.Request) error {
	return h.export(w, r, "groups", func(out io.Writer) error { return csvio.WriteGroups(r.Context(), out, h.svc.Groups) })
}

// export writes the whole file to memory first, so a failure half-way is
// an error page instead of a truncated download.
func (h *Handler) export(w http.ResponseWriter, r *http.Request, kind string, write func(io.Writer) error) error {
	if err := h.requireUserManager(r); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	name := fmt.Sprintf("cohort-%s-%s.csv", kind, time.Now().UTC().Format(time.DateOnly))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
	return nil
}
