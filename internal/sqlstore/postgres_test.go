package sqlstore_test

import (
	"os"
	"testing"

	"github.com/cohorthq/cohort/internal/sqlstore"
	"github.com/cohorthq/cohort/internal/sqlstore/storetest"
)

func TestPostgres(t *testing.T) {
	server := os.Getenv("COHORT_TEST_POSTGRES")
	if server == "" {
		t.Skip("PostgreSQL tests skipped: set COHORT_TEST_POSTGRES, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	storetest.Run(t, func(t *testing.T) *sqlstore.DB { return sqlstore.OpenTestPostgres(t, server) })
}
