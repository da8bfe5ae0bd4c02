// Display names of the API's enum values, and shared small helpers.

export const REGIONS = {
  REGION_AFRICA: "Africa",
  REGION_ARAB_STATES: "Arab States",
  REGION_ASIA_PACIFIC: "Asia and the Pacific",
  REGION_EUROPE_NORTH_AMERICA: "Europe and North America",
  REGION_LATIN_AMERICA_CARIBBEAN: "Latin America and the Caribbean",
};

export const THEMES = {
  THEME_INCLUSIVE_EDUCATION: "Inclusive education",
  THEME_FAMILIES_COMMUNITIES: "Families and communities",
  THEME_WORKPLACE: "Workplace learning",
  THEME_LEARNING_TECHNOLOGIES: "Learning technologies",
  THEME_QUALITY_EXCELLENCE: "Quality and excellence",
  THEME_CULTURE_OF_LEARNING: "Culture of learning",
};

export const KINDS = { CASE_KIND_CHALLENGE: "Challenge", CASE_KIND_SOLUTION: "Solution" };

// Languages offered for a typed challenge (ISO 639-1).
export const LANGUAGES = {
  en: "English", es: "Spanish", fr: "French", pt: "Portuguese", ar: "Arabic", zh: "Chinese",
  de: "German", it: "Italian", ko: "Korean", ja: "Japanese", ru: "Russian", tr: "Turkish",
  el: "Greek", nl: "Dutch", fi: "Finnish", pl: "Polish", hu: "Hungarian", fa: "Persian",
  th: "Thai", vi: "Vietnamese", id: "Indonesian",
};

// One colour per region (the map, the graph, the legends); CSS classes
// carry them so that no style attribute is needed.
export function regionClass(region) {
  return `region-${String(region || "").replace("REGION_", "").toLowerCase()}`;
}

// Scores are standard deviations above a query's candidates; the README
// calls one above about 2 a strong match.
export function strength(score) {
  if (score >= 2) return "strong";
  if (score >= 1) return "good";
  return "weak";
}

export function label(map, value) {
  return map[value] || String(value || "");
}

// Pairing rounds (issue 14): a pair's state, and why a city declined.
export const PAIR_STATES = { PAIR_STATE_PROPOSED: "proposed", PAIR_STATE_ACCEPTED: "accepted", PAIR_STATE_DECLINED: "declined" };
export const DECLINE_REASONS = {
  DECLINE_REASON_NOT_RELEVANT: "Not relevant: the solution does not fit the challenge",
  DECLINE_REASON_NO_CAPACITY: "No capacity this year",
  DECLINE_REASON_ALREADY_PARTNERS: "Already partners",
  DECLINE_REASON_LANGUAGE: "No common working language",
  DECLINE_REASON_OTHER: "Other (say why in the comment)",
};
