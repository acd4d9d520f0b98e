-- SpArSe's model size as a seventh objective: model_size_bytes, the bytes of
-- the non-zero weights (plus per-channel bias and requantisation), counted in
-- the trained int8 artifact (proto: OBJECTIVE_MODEL_SIZE_BYTES).
CREATE OR REPLACE FUNCTION hilnas_objective_names() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ARRAY['error', 'flash_bytes', 'sram_bytes', 'latency_ms', 'energy_uj', 'macs',
                       'model_size_bytes'] $$;

-- The views gain its column (and the front its comparison). Dropping them
-- drops their grants: re-run deploy/postgres/dashboard-role.sql after upgrading.
DROP VIEW v_pareto_front;
DROP VIEW v_trial_objectives;

CREATE VIEW v_trial_objectives AS
SELECT t.id AS trial_id,
       t.job_id,
       t.number,
       t.state,
       max(o.value) FILTER (WHERE o.objective = 'error')            AS error,
       max(o.value) FILTER (WHERE o.objective = 'flash_bytes')      AS flash_bytes,
       max(o.value) FILTER (WHERE o.objective = 'sram_bytes')       AS sram_bytes,
       max(o.value) FILTER (WHERE o.objective = 'latency_ms')       AS latency_ms,
       max(o.value) FILTER (WHERE o.objective = 'energy_uj')        AS energy_uj,
       max(o.value) FILTER (WHERE o.objective = 'macs')             AS macs,
       max(o.value) FILTER (WHERE o.objective = 'model_size_bytes') AS model_size_bytes,
       cardinality(j.objectives)
           - count(o.objective) FILTER (WHERE o.objective = ANY (j.objectives))
           AS missing_objectives
FROM trials t
JOIN jobs j ON j.id = t.job_id
LEFT JOIN trial_objectives o ON o.trial_id = t.id
GROUP BY t.id, t.job_id, t.number, t.state, j.objectives;

-- As in 0002: complete trials with every one of their job's objectives that
-- no other such trial of the job dominates; unused objectives masked to 0.
CREATE VIEW v_pareto_front AS
WITH candidates AS NOT MATERIALIZED (
    SELECT v.trial_id, v.job_id, v.number,
           v.error, v.flash_bytes, v.sram_bytes, v.latency_ms, v.energy_uj, v.macs,
           v.model_size_bytes,
           CASE WHEN 'error' = ANY (j.objectives) THEN v.error ELSE 0 END       AS m_error,
           CASE WHEN 'flash_bytes' = ANY (j.objectives) THEN v.flash_bytes ELSE 0 END AS m_flash,
           CASE WHEN 'sram_bytes' = ANY (j.objectives) THEN v.sram_bytes ELSE 0 END  AS m_sram,
           CASE WHEN 'latency_ms' = ANY (j.objectives) THEN v.latency_ms ELSE 0 END  AS m_latency,
           CASE WHEN 'energy_uj' = ANY (j.objectives) THEN v.energy_uj ELSE 0 END    AS m_energy,
           CASE WHEN 'macs' = ANY (j.objectives) THEN v.macs ELSE 0 END              AS m_macs,
           CASE WHEN 'model_size_bytes' = ANY (j.objectives) THEN v.model_size_bytes ELSE 0 END
               AS m_size
    FROM v_trial_objectives v
    JOIN jobs j ON j.id = v.job_id
    WHERE v.state = 'complete' AND v.missing_objectives = 0
)
SELECT a.job_id, a.trial_id, a.number,
       a.error, a.flash_bytes, a.sram_bytes, a.latency_ms, a.energy_uj, a.macs,
       a.model_size_bytes
FROM candidates a
WHERE NOT EXISTS (
    SELECT 1
    FROM candidates b
    WHERE b.job_id = a.job_id
      AND b.trial_id <> a.trial_id
      AND b.m_error <= a.m_error AND b.m_flash <= a.m_flash AND b.m_sram <= a.m_sram
      AND b.m_latency <= a.m_latency AND b.m_energy <= a.m_energy AND b.m_macs <= a.m_macs
      AND b.m_size <= a.m_size
      AND (b.m_error < a.m_error OR b.m_flash < a.m_flash OR b.m_sram < a.m_sram
           OR b.m_latency < a.m_latency OR b.m_energy < a.m_energy OR b.m_macs < a.m_macs
           OR b.m_size < a.m_size));
