-- A read-only database role for dashboards (Grafana, psql, notebooks).
--
-- Dashboards read the results through SQL, never through the controller's
-- own role. This role can SELECT the views and the result tables behind
-- them, and nothing else: no artifacts (the trained models), no leases, no
-- writes, no new tables. The role cannot log in; a dashboard logs in as a
-- member of it (role settings are not inherited, so set them on the login):
--
--   psql -v ON_ERROR_STOP=1 -d hilnas -f deploy/postgres/dashboard-role.sql
--   psql -d hilnas -c "CREATE ROLE grafana LOGIN PASSWORD '...' IN ROLE hilnas_dashboard" \
--        -c "ALTER ROLE grafana SET default_transaction_read_only = on" \
--        -c "ALTER ROLE grafana SET statement_timeout = '30s'"
--
-- Idempotent: run it again after an upgrade (a migration that replaces a
-- view drops its grants). tests/integration/dashboard_role_pgtest.cpp
-- checks that every v_* view is readable through it and that writes fail.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hilnas_dashboard') THEN
        CREATE ROLE hilnas_dashboard NOLOGIN;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO hilnas_dashboard', current_database());
END
$$;

GRANT USAGE ON SCHEMA public TO hilnas_dashboard;
REVOKE CREATE ON SCHEMA public FROM hilnas_dashboard;

-- The views dashboards are built on.
GRANT SELECT ON
    v_trial_objectives,
    v_pareto_front,
    v_job_hypervolume,
    v_board_utilisation,
    v_prediction_error
TO hilnas_dashboard;

-- The result tables behind them (names, states, times, figures).
GRANT SELECT ON
    jobs,
    trials,
    trial_metrics,
    trial_objectives,
    measurements,
    job_hypervolume,
    boards
TO hilnas_dashboard;
