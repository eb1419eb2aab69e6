#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/results_file.hpp"
#include "core/search_space.hpp"

namespace hps {

/// Everything that decides which trials a search runs and what they produce, flattened to
/// "key -> value" text (search.space.dropout -> "uniform [0, 0.5]", training.batch_size ->
/// "128", data.train.path -> "/data/x.csv", data -> the prepared data's fingerprint).
std::map<std::string, std::string> search_identity(const SearchConfig& config,
                                                   const std::string& data_fingerprint);

/// Whether a result file whose `hpsearch_version` attribute is `version` was begun before
/// hpsearch 0.3.0 (an empty or unreadable version counts as older), when grids still ran the
/// whole product of a searched optimizer and momentum.
bool began_before_0_3(const std::string& version);

/// The TPE ranking a search recorded by hpsearch before 0.2.0 used, from its parsed `tpe`
/// settings: the ranking its config names, else finished_first, the default until then
/// (equal_budget since).
TpeRanking legacy_tpe_ranking(const TpeSettings& tpe);

/// The TPE ranking a recorded TPE search used: `attribute`, the file's `tpe_ranking` (written
/// from hpsearch 0.2.0 on), or, when the file has none (`attribute` empty), the legacy one.
/// Throws std::runtime_error naming `where` (the file) for an attribute value that is no
/// ranking; a caller adds what it was doing.
TpeRanking recorded_tpe_ranking(const std::string& attribute, const TpeSettings& tpe,
                                const std::string& where);

/// The config a recorded search ran with: the file's config text, parsed without looking for
/// its data files (they were where the search ran, and a project moved since resumes: the
/// data is compared by its fingerprint), and for a TPE search the ranking it ran with
/// (recorded_tpe_ranking), whatever today's default. A grid begun before hpsearch 0.3.0
/// (began_before_0_3) keeps the whole product it ran (keep_every_grid_point).
SearchConfig recorded_search_config(const ResultsReader& recorded);

/// What differs between a recorded search and the one asked to resume it, one line per key
/// ("search.space.learning_rate: log_uniform [0.0001, 0.01] -> log_uniform [0.0001, 0.1]");
/// empty when the search can resume.
std::vector<std::string> identity_changes(const std::map<std::string, std::string>& recorded,
                                          const std::map<std::string, std::string>& now);

/// Rows of a recorded /summary that `config` (the config the file recorded) rules out: more
/// epochs run than any of its trials trains (most_epochs), or an ASHA rung it does not have
/// (any rung but -1 without ASHA). One line per row; empty when there is none.
std::vector<std::string> summary_bound_problems(const std::vector<SummaryRow>& rows,
                                                const SearchConfig& config);

/// What is wrong with a recorded /summary that no writer produces: a trial id outside
/// [0, trials_total) or listed twice. One line per problem; empty when there is none.
std::vector<std::string> summary_problems(const std::vector<SummaryRow>& rows,
                                          int64_t trials_total);

}  // namespace hps
