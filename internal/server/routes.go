package server

import (
	"net/http"

	"github.com/cohorthq/cohort/internal/httpx"
)

// ownRoutes are the endpoints the server answers itself: health checks for
// load balancers and orchestrators.
func (s *Server) ownRoutes() []httpx.Route {
	return []httpx.Route{
		// /healthz says the process is up; it never touches the database,
		// so a database outage does not get healthy processes restarted.
		{Method: "GET", Pattern: "/healthz", Public: true, Stateless: true, Quick: true, Handler: http.HandlerFunc(s.handleHealthz)},
		// /readyz says the process can serve: the database answers.
		{Method: "GET", Pattern: "/readyz", Public: true, Stateless: true, Quick: true, Handler: http.HandlerFunc(s.handleReadyz)},
	}
}

// fallbackRoutes answer what no route matches, with any method: a 404
// page, or problem JSON for a client that asks for JSON. The machine
// interfaces declare their own catch-alls (/api/, /scim/), which answer
// in their protocol.
func (s *Server) fallbackRoutes() []httpx.Route {
	return []httpx.Route{
		{Pattern: "/", Public: true, Stateless: true, Quick: true, Handler: http.HandlerFunc(s.notFound)},
	}
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(r.Context()); err != nil {
			s.logger.WarnContext(r.Context(), "not ready", "err", err, "request_id", httpx.RequestID(r.Context()))
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: the database does not answer\n"))
			return
		}
	}
	_, _ = w.Write([]byte("ok\n"))
}
