-- Views for dashboards (documented in README.md, "The results store").
-- They compute everything from the tables at query time; a filter on job_id
-- (or trial_id) is pushed down into them, so one job's front costs one job's
-- trials.

-- One row per trial: every objective as a column (NULL when not recorded) and
-- how many of its job's objectives are still missing.
CREATE VIEW v_trial_objectives AS
SELECT t.id AS trial_id,
       t.job_id,
       t.number,
       t.state,
       max(o.value) FILTER (WHERE o.objective = 'error')       AS error,
       max(o.value) FILTER (WHERE o.objective = 'flash_bytes') AS flash_bytes,
       max(o.value) FILTER (WHERE o.objective = 'sram_bytes')  AS sram_bytes,
       max(o.value) FILTER (WHERE o.objective = 'latency_ms')  AS latency_ms,
       max(o.value) FILTER (WHERE o.objective = 'energy_uj')   AS energy_uj,
       max(o.value) FILTER (WHERE o.objective = 'macs')        AS macs,
       cardinality(j.objectives)
           - count(o.objective) FILTER (WHERE o.objective = ANY (j.objectives))
           AS missing_objectives
FROM trials t
JOIN jobs j ON j.id = t.job_id
LEFT JOIN trial_objectives o ON o.trial_id = t.id
GROUP BY t.id, t.job_id, t.number, t.state, j.objectives;

-- The Pareto front of every job: its complete trials that have a value for
-- every one of the job's objectives and that no other such trial of the same
-- job dominates. b dominates a when b is no worse in every objective of the
-- job and strictly better in at least one; all objectives are minimised.
-- A trial missing any of its job's objectives is not on the front and does not
-- dominate anything; trials with exactly equal values are all on the front.
-- Objectives the job does not use are masked to 0 on both sides, so they never
-- decide anything (the job's objectives can be any 1 to 6 of the six).
CREATE VIEW v_pareto_front AS
WITH candidates AS NOT MATERIALIZED (
    SELECT v.trial_id, v.job_id, v.number,
           v.error, v.flash_bytes, v.sram_bytes, v.latency_ms, v.energy_uj, v.macs,
           CASE WHEN 'error' = ANY (j.objectives) THEN v.error ELSE 0 END       AS m_error,
           CASE WHEN 'flash_bytes' = ANY (j.objectives) THEN v.flash_bytes ELSE 0 END AS m_flash,
           CASE WHEN 'sram_bytes' = ANY (j.objectives) THEN v.sram_bytes ELSE 0 END  AS m_sram,
           CASE WHEN 'latency_ms' = ANY (j.objectives) THEN v.latency_ms ELSE 0 END  AS m_latency,
           CASE WHEN 'energy_uj' = ANY (j.objectives) THEN v.energy_uj ELSE 0 END    AS m_energy,
           CASE WHEN 'macs' = ANY (j.objectives) THEN v.macs ELSE 0 END              AS m_macs
    FROM v_trial_objectives v
    JOIN jobs j ON j.id = v.job_id
    WHERE v.state = 'complete' AND v.missing_objectives = 0
)
SELECT a.job_id, a.trial_id, a.number,
       a.error, a.flash_bytes, a.sram_bytes, a.latency_ms, a.energy_uj, a.macs
FROM candidates a
WHERE NOT EXISTS (
    SELECT 1
    FROM candidates b
    WHERE b.job_id = a.job_id
      AND b.trial_id <> a.trial_id
      AND b.m_error <= a.m_error AND b.m_flash <= a.m_flash AND b.m_sram <= a.m_sram
      AND b.m_latency <= a.m_latency AND b.m_energy <= a.m_energy AND b.m_macs <= a.m_macs
      AND (b.m_error < a.m_error OR b.m_flash < a.m_flash OR b.m_sram < a.m_sram
           OR b.m_latency < a.m_latency OR b.m_energy < a.m_energy OR b.m_macs < a.m_macs));

-- The hypervolume of each job's front after each completed trial, as recorded
-- by the controller, with the gain over the previous row.
CREATE VIEW v_job_hypervolume AS
SELECT h.job_id,
       j.name AS job_name,
       h.completed_trials,
       h.trial_id,
       t.number AS trial_number,
       h.hypervolume,
       h.hypervolume - lag(h.hypervolume) OVER w AS improvement,
       h.front_size,
       h.reference_point,
       h.recorded_at
FROM job_hypervolume h
JOIN jobs j ON j.id = h.job_id
LEFT JOIN trials t ON t.id = h.trial_id
WINDOW w AS (PARTITION BY h.job_id ORDER BY h.completed_trials);

-- Per board: health, what it is doing now, and how busy it was over the last
-- 24 hours (time under a measurement lease, ended or current).
CREATE VIEW v_board_utilisation AS
SELECT b.id AS board_id,
       b.board_type,
       b.agent_id,
       b.health,
       b.health_reason,
       b.active,
       b.consecutive_failures,
       b.last_seen_at,
       cur.id AS measuring_trial_id,
       (SELECT count(*) FROM measurements m WHERE m.board_id = b.id) AS measurements_total,
       (SELECT count(*) FROM measurements m
         WHERE m.board_id = b.id AND m.measured_at >= now() - interval '24 hours')
           AS measurements_24h,
       (SELECT count(*) FROM trial_leases l
         WHERE l.board_id = b.id AND l.ended_at >= now() - interval '24 hours'
           AND l.outcome IN ('failed', 'retry', 'expired'))
           AS failed_leases_24h,
       busy.seconds AS busy_seconds_24h,
       busy.seconds / 86400.0 AS utilisation_24h
FROM boards b
LEFT JOIN trials cur ON cur.lease_board_id = b.id
CROSS JOIN LATERAL (
    SELECT coalesce(sum(extract(epoch FROM least(s.until, now())
                                   - greatest(s.since, now() - interval '24 hours'))),
                    0)::double precision AS seconds
    FROM (SELECT l.claimed_at AS since, l.ended_at AS until
            FROM trial_leases l
           WHERE l.board_id = b.id AND l.ended_at > now() - interval '24 hours'
          UNION ALL
          SELECT t.leased_at, now()
            FROM trials t
           WHERE t.lease_board_id = b.id) AS s
) AS busy;
