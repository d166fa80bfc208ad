"""Result readers per evaluation family, the bounded EvaluationSummary and the text rendering."""
