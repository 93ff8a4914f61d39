// HtmlReport: the HTML report of a batch (`headroom report --html FILE`), one
// self-contained file: inline CSS and SVG, no script, no network, no external
// font. It shows a summary, a timeline of the attempts per GPU and slot
// (coloured by outcome, retries outlined), GPU memory and temperature and host
// RAM over time (the journal's samples), each GPU's concurrency limit over
// time with the reason of each change, and tables of the slowest and the
// failed jobs and of the GPUs. Every text from the journal is escaped.
#pragma once

#include <string>
#include <string_view>

#include "report/batch_report.h"

namespace headroom {

std::string RenderHtmlReport(const BatchReport& report);

// `text` made safe as HTML text or a quoted attribute value: & < > " ' are
// escaped; control characters and bytes that are not valid UTF-8 (file names
// need not be UTF-8) become U+FFFD.
std::string HtmlEscape(std::string_view text);

// Fill colour of an attempt class in the timeline ("#2e9e5b" for succeeded).
std::string_view AttemptColor(AttemptClass attempt_class);

}  // namespace headroom
