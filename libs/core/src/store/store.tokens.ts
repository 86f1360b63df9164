/** Injects the `SqlClient` the store uses, to run your own SQL on the same database. */
export const SQL_CLIENT = Symbol('chronicle:sql-client');
