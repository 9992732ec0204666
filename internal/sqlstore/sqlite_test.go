package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/cohorthq/cohort/internal/sqlstore"
	"github.com/cohorthq/cohort/internal/sqlstore/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *sqlstore.DB {
		db, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "cohort.db"), sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
