module github.com/cohorthq/cohort

go 1.27.3
