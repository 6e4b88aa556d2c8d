{#- A model's schema is exactly the one its folder configures (staging, intermediate, analytics),
    not dbt's default of "<target schema>_<custom schema>". -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
