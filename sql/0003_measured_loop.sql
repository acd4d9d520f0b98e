-- The measured loop (board agents): latency spread, how many outputs were
-- checked against the host runtime, the kernels and meter behind a figure,
-- and a view that sets each prediction beside its measurement.

ALTER TABLE measurements
    ADD COLUMN latency_p10_ms  double precision
        CHECK (hilnas_finite(latency_p10_ms) AND latency_p10_ms >= 0),
    ADD COLUMN latency_p90_ms  double precision
        CHECK (hilnas_finite(latency_p90_ms) AND latency_p90_ms >= 0),
    ADD COLUMN outputs_checked integer NOT NULL DEFAULT 0 CHECK (outputs_checked >= 0),
    ADD COLUMN runtime_variant text NOT NULL DEFAULT '',
    ADD COLUMN meter_version   text NOT NULL DEFAULT '',
    ADD CONSTRAINT measurements_latency_order
        CHECK (latency_p10_ms IS NULL OR latency_p90_ms IS NULL
               OR (latency_p10_ms <= latency_ms AND latency_ms <= latency_p90_ms));

-- Prediction against measurement, one row per measured trial (its newest
-- measurement). The predictions are the cost model's, recorded when the trial
-- was trained (trial metrics predicted_sram_bytes and predicted_flash_bytes);
-- the measurements use the same definitions: SRAM = .data + .bss (arena
-- included) + stack high-water mark, flash = .text + .rodata + .data.
-- *_error_bytes is measured - predicted; *_error_ratio is that over measured.
CREATE VIEW v_prediction_error AS
SELECT t.id AS trial_id,
       t.job_id,
       t.number,
       m.board_id,
       m.board_type,
       m.source,
       ps.value                            AS predicted_sram_bytes,
       m.sram_bytes                        AS measured_sram_bytes,
       m.sram_bytes - ps.value             AS sram_error_bytes,
       (m.sram_bytes - ps.value) / nullif(m.sram_bytes, 0)::float8 AS sram_error_ratio,
       pf.value                            AS predicted_flash_bytes,
       m.flash_bytes                       AS measured_flash_bytes,
       m.flash_bytes - pf.value            AS flash_error_bytes,
       (m.flash_bytes - pf.value) / nullif(m.flash_bytes, 0)::float8 AS flash_error_ratio,
       m.measured_at
FROM trials t
JOIN LATERAL (SELECT * FROM measurements x WHERE x.trial_id = t.id
              ORDER BY x.measured_at DESC, x.id DESC LIMIT 1) m ON true
LEFT JOIN trial_metrics ps ON ps.trial_id = t.id AND ps.name = 'predicted_sram_bytes'
LEFT JOIN trial_metrics pf ON pf.trial_id = t.id AND pf.name = 'predicted_flash_bytes';
