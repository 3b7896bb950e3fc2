# The sources of the two core libraries, relative to core/. Included by
# core/CMakeLists.txt and by fuzz/CMakeLists.txt (which builds the base list
# with Clang and sanitizers). A new file goes into the list of the library it
# belongs to: base when it needs no LibTorch, engine otherwise.

set(DISTILLERY_BASE_SOURCES
  # api/ (issue 17: distilling through a teacher API; the HTTP client is serve/api_client)
  api/answer_cache.cpp
  api/api_server_info.cpp
  # cluster/ (issue 19: runs submitted to Slurm; sbatch, squeue, scancel through process_runner)
  cluster/job_store.cpp
  cluster/process_runner.cpp
  cluster/sbatch_script.cpp
  cluster/slurm_cancel.cpp
  cluster/slurm_job_state.cpp
  cluster/slurm_options.cpp
  cluster/slurm_refresh.cpp
  cluster/slurm_submit.cpp
  # base/
  base/base64.cpp
  base/content_hash.cpp
  base/file_checks.cpp
  base/file_output.cpp
  base/json_flatten.cpp
  base/number_format.cpp
  base/paths.cpp
  base/sha256.cpp
  base/version.cpp
  # config/
  config/api_teacher_config.cpp
  config/config_reader.cpp
  config/data_config.cpp
  config/distributed_config.cpp
  # distributed/ (issue 19: data-parallel ranks)
  distributed/launch_scratch_store.cpp
  distributed/local_launcher.cpp
  distributed/rank_environment.cpp
  config/gpt_spec.cpp
  config/lm_config.cpp
  config/model_spec.cpp
  config/run_config.cpp
  config/sweep_spec.cpp
  config/zoo_name.cpp
  # store/
  store/checkpoint.cpp
  store/cost_counters.cpp
  store/resume_check.cpp
  store/run_delete.cpp
  store/run_provenance.cpp
  store/run_recorder.cpp
  store/run_store.cpp
  # data/
  data/cifar_records.cpp
  data/data_probe.cpp
  data/dataset_formats.cpp
  data/idx_reader.cpp
  data/image_decoder.cpp
  data/skipped_files.cpp
  # methods/
  methods/method_registry.cpp
  # forensics/ (issue 18: statistics and detectors)
  forensics/green_list.cpp
  forensics/green_weight_test.cpp
  forensics/ks_test.cpp
  # lm/
  lm/text_vocabulary.cpp
  # serve/ (issue 17: the teacher server, without HTTP or the model)
  serve/classify_request.cpp
  serve/classify_service.cpp
  serve/input_sketch.cpp
  serve/key_ledger.cpp
  serve/mad_defense.cpp
  serve/output_defenses.cpp
  serve/output_modes.cpp
  serve/request_log.cpp
  serve/request_log_reader.cpp
  serve/serve_config.cpp
  serve/token_bucket.cpp
  # forensics/ (issue 18: statistics and detectors over the server's request log)
  forensics/distribution_shift.cpp
  forensics/log_audit.cpp
  forensics/prada.cpp
  forensics/shapiro_wilk.cpp
  # forensics/ (issue 18: is a suspect a copy of the teacher?)
  forensics/detection_roc.cpp
  forensics/forensic_candidates.cpp
  forensics/rank_p_value.cpp
  forensics/forensic_verdict.cpp
  forensics/sac_correlation.cpp
  # analysis/
  analysis/config_diff.cpp
  analysis/copy_name.cpp
  analysis/defense_tradeoff.cpp
  analysis/group_statistics.cpp
  analysis/hyperparam_points.cpp
  analysis/metric_catalog.cpp
  analysis/pareto_front.cpp
  analysis/run_filter.cpp
  analysis/run_summary_table.cpp
  # export/
  export/axis_ticks.cpp
  export/chart_file_export.cpp
  export/chart_painter.cpp
  export/chart_series.cpp
  export/chart_spec.cpp
  export/cost_chart.cpp
  export/defense_chart.cpp
  export/forensics_section.cpp
  export/ema_smoothing.cpp
  export/point_export.cpp
  export/report_content.cpp
  export/run_palette.cpp
  export/series_decimation.cpp
  export/svg_canvas.cpp
  export/table_export.cpp
  export/text_report.cpp
)

set(DISTILLERY_ENGINE_SOURCES
  # api/
  api/api_teacher.cpp
  api/query_plan.cpp
  # data/
  data/augmentation.cpp
  data/cifar_reader.cpp
  data/csv_table_reader.cpp
  data/dataset.cpp
  data/dataset_readers.cpp
  data/idx_dataset_reader.cpp
  data/image_folder_reader.cpp
  data/preprocessing.cpp
  # models/
  models/feature_taps.cpp
  models/model_artifact.cpp
  models/model_card.cpp
  models/model_export.cpp
  models/model_info.cpp
  models/model_zoo.cpp
  models/op_mac_counter.cpp
  models/scripted_classifier.cpp
  models/syncable_batch_norm.cpp
  models/stored_model.cpp
  models/tensor_bytes.cpp
  models/torchscript_export.cpp
  # methods/
  methods/distill_losses.cpp
  methods/feature_distiller.cpp
  methods/feature_losses.cpp
  methods/method_losses.cpp
  methods/teacher_output_cache.cpp
  methods/transfer_set.cpp
  # distributed/ (issue 19: c10d process group)
  distributed/data_parallel_group.cpp
  # training/
  training/checkpoint_capture.cpp
  training/classification_metrics.cpp
  training/data_parallel_training.cpp
  training/device.cpp
  training/engine.cpp
  training/loss_window.cpp
  training/multi_tensor_optimizer.cpp
  training/optimizer_setup.cpp
  training/prepared_model.cpp
  training/teacher_run.cpp
  training/teacher_sources.cpp
  training/run_preflight.cpp
  training/run_summary_json.cpp
  training/sweep_runner.cpp
  training/trainer.cpp
  # forensics/
  forensics/cutmix_inputs.cpp
  forensics/detection_harness.cpp
  forensics/forensic_model.cpp
  forensics/forensic_session.cpp
  forensics/forensic_tests.cpp
  forensics/targeted_fingerprints.cpp
  forensics/watermark_detection.cpp
  forensics/watermark_sampler.cpp
  # lm/
  lm/generation_comparison.cpp
  lm/gpt_model.cpp
  lm/lm_engine.cpp
  lm/lm_generation.cpp
  lm/lm_losses.cpp
  lm/lm_trainer.cpp
  lm/text_corpus.cpp
  # serve/
  serve/mad_surrogate.cpp
  serve/served_model.cpp
  serve/served_teacher.cpp
)
