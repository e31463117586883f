#include "server/notifications/mustache_template.h"

#include <gtest/gtest.h>

#include <mstch/mstch.hpp>
#include <string>
#include <vector>

#include "server/common/error.h"
#include "server/notifications/embedded_templates.h"

namespace paybell::notifications {
namespace {

// Values that HTML escaping, whitespace and mustache's own braces could trip over.
const std::vector<std::string> kAwkwardValues = {"",
                                                 "plain",
                                                 "<script>alert('x')</script> & \"co\" /s/",
                                                 "  spaced \n\tline\n",
                                                 "{{headline}} {{{x}}}",
                                                 "\xc3\xa9t\xc3\xa9 \xe2\x86\x92"};

mstch::map EmailModel(const std::string& value, bool test, size_t facts, size_t links) {
  mstch::array fact_nodes;
  for (size_t i = 0; i < facts; ++i) {
    fact_nodes.push_back(mstch::map{{"label", "Label " + std::to_string(i) + value},
                                    {"value", value + std::to_string(i)}});
  }
  mstch::array link_nodes;
  for (size_t i = 0; i < links; ++i) {
    link_nodes.push_back(
        mstch::map{{"label", value + "link"}, {"url", "https://x.example/" + value}});
  }
  return mstch::map{{"subject", "[Paybell] " + value},
                    {"headline", value},
                    {"tenant", value},
                    {"settings_url", "https://app.example/settings?" + value},
                    {"facts", fact_nodes},
                    {"links", link_nodes},
                    {"test", test}};
}

// The parsed template must give mstch's bytes: the email templates with every kind of model.
TEST(MustacheTemplateTest, EmailTemplatesRenderAsMstchDoes) {
  for (const char* name : {"email.txt.mustache", "email.html.mustache"}) {
    const std::string& text = EmbeddedTemplate(name);
    const MustacheTemplate parsed(text);
    for (const std::string& value : kAwkwardValues) {
      for (bool test : {false, true}) {
        for (size_t facts : {0, 1, 4}) {
          for (size_t links : {0, 1, 3}) {
            const mstch::map model = EmailModel(value, test, facts, links);
            EXPECT_EQ(parsed.Render(model), mstch::render(text, model))
                << name << " value=" << value << " test=" << test << " facts=" << facts
                << " links=" << links;
          }
        }
      }
    }
  }
}

// mstch's rules on whitespace, sections and values, one template at a time.
TEST(MustacheTemplateTest, SyntheticTemplatesRenderAsMstchDoes) {
  const mstch::map model{
      {"name", std::string("<Ann & 'Bo'/>")},
      {"empty", std::string()},
      {"yes", true},
      {"no", false},
      {"zero", 0},
      {"seven", 7},
      {"half", 0.5},
      {"third", 1.0 / 3},
      {"nothing", mstch::array{}},
      {"items", mstch::array{mstch::map{{"name", std::string("one")}},
                             mstch::map{{"other", std::string("two")}},
                             mstch::array{std::string("nested")}, std::string("s"), false}},
      {"inner", mstch::map{{"name", std::string("inner name")}, {"deep", true}}},
  };
  const std::vector<std::string> templates = {
      "",
      "no tags at all",
      "no tags\nand two lines\n",
      "{{name}}|{{{name}}}|{{&name}}|{{ name }}|{{{ name }}}|{{& name }}|{{missing}}.",
      "{{yes}} {{no}} {{zero}} {{seven}} {{half}} {{third}} {{items}} {{inner}}",
      "{{#yes}}\nyes\n{{/yes}}\n{{#no}}\nno\n{{/no}}\n{{^no}}\nnot no\n{{/no}}\n",
      "  {{#yes}}  \n  indented\n  {{/yes}}  \nafter\n",
      "\t{{#yes}}\t\nx\n{{/yes}}",
      "{{#yes}}inline{{/yes}} and {{^yes}}never{{/yes}}\n",
      "{{! a comment }}\n{{! another }} text\nend {{! trailing }}",
      "a\r\n{{#yes}}\r\nb\r\n{{/yes}}\r\n",
      "{{#items}}[{{name}}/{{other}}]{{/items}}\n",
      "{{#items}}\n- {{name}}\n{{/items}}\n",
      "{{#nothing}}x{{/nothing}}{{^nothing}}none{{/nothing}}\n",
      "{{#empty}}x{{/empty}}{{^empty}}empty{{/empty}}{{#zero}}z{{/zero}}{{^zero}}0{{/zero}}",
      "{{#name}}{{name}}{{/name}}{{#seven}}{{seven}}{{/seven}}{{#half}}h{{/half}}",
      "{{#inner}}{{name}} {{#deep}}{{seven}}{{/deep}}{{/inner}} {{name}}",
      "{{#yes}}{{#items}}{{#inner}}{{name}}{{/inner}}{{/items}}{{/yes}}",
      "{{#yes}}{{#yes}}twice{{/yes}}{{/yes}}\n",
      "ends with a tag {{name}}",
      "line\n{{#yes}}\n{{/yes}}",
      "{ single } braces {{name}} } {",
      "unclosed {{ tag",
      "{{\tname}} {{{name}} {{name}}}",
      "{{#yes}}{{^no}}\n  two tags, one line\n{{/no}}{{/yes}}\n",
      "{{#yes}}x\n{{/yes}} after the close\n",
  };
  for (const std::string& text : templates) {
    EXPECT_EQ(MustacheTemplate(text).Render(model), mstch::render(text, model)) << text;
  }
}

TEST(MustacheTemplateTest, WhatItDoesNotRenderFailsWhenParsed) {
  for (const char* text : {"{{> partial}}", "{{=<% %>=}}", "{{a.b}}", "{{#a}}open", "{{/a}}",
                           "{{#a}}{{/b}}", "{{}}"}) {
    EXPECT_THROW(MustacheTemplate{text}, common::Error) << text;
  }
}

TEST(MustacheTemplateTest, LambdasAreRefusedWhenRendered) {
  const mstch::map model{
      {"f", mstch::lambda{[](const std::string&) -> mstch::node { return std::string("x"); }}}};
  EXPECT_THROW(MustacheTemplate("{{f}}").Render(model), common::Error);
  EXPECT_THROW(MustacheTemplate("{{#f}}x{{/f}}").Render(model), common::Error);
}

}  // namespace
}  // namespace paybell::notifications
