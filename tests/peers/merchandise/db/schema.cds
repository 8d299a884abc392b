// A distributor's merchandise system, shaped unlike S/4HANA on purpose: its own entity and property names, an
// integer key, its own change field (LastChange, ChangedOn), booleans, prices as decimals in the article's
// currency (CNY, JPY, KWD: 2, 0 and 3 decimals), and one entity set with neither a change timestamp nor an ETag.
// No error is rewritten: a duplicate key is answered as stock CAP answers it.
namespace merch;

entity Articles {
  key ArticleNo  : String(20) @mandatory;
      Title      : String(60) @mandatory;
      ArticleGrp : String(10);
      SalesUnit  : String(3);
      Blocked    : Boolean default false;
      Price      : Decimal(15, 3);
      Currency   : String(3);
      LastChange : Timestamp @cds.on.insert: $now @cds.on.update: $now;
}

entity Customers {
  key CustomerNo : Integer @mandatory;
      Name       : String(80) @mandatory;
      City       : String(40);
      Blocked    : Boolean default false;
      CreditLine : Decimal(15, 2);
      ChangedOn  : Timestamp @cds.on.insert: $now @cds.on.update: $now;
}

// Neither a change timestamp nor an ETag: only reading everything tells what changed.
entity Departments {
  key DeptCode : String(10) @mandatory;
      DeptName : String(40) @mandatory;
      Manager  : String(40);
      Closed   : Boolean default false;
}

annotate Articles  with { LastChange @odata.etag; };
annotate Customers with { ChangedOn @odata.etag; };
